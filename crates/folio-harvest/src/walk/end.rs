//! The end of a walk: why it ended, the manifest beside a file, and the checks that fail a
//! walk that ended early or, with --strict, one whose count differs from the total declared.

use std::path::Path;

use crate::error::HarvestError;
use crate::harvest::{Output, Summary};

use super::Walk;

impl Walk<'_> {
    /// Ends the walk once every page is written: says why it ended, writes the manifest
    /// beside a file, and fails a walk that ended while the API said there was more or, with
    /// --strict, one whose count differs from the exact total declared.
    pub(crate) fn finish(mut self, output: &Output) -> Result<Summary, HarvestError> {
        self.writer.finish()?;
        if self.next.is_some() && self.limit_reached() {
            self.ended = Some(match self.options.max_records {
                Some(max) if self.state.records >= max => format!("--max-records {max} was reached"),
                _ => format!("--max-pages {} was reached", self.options.max_pages.unwrap_or_default()),
            });
        }
        let mut result = self.summary();
        // A walk that ended while the API said there was more ended early: not complete.
        let early = if result.complete { self.ended_early() } else { None };
        if let Some(said) = &early {
            result.complete = false;
            result.ended = Some(format!("ended early: {said}"));
        }
        if let Output::File(path) = output {
            write_manifest(path, &result)?;
        }
        if let Some(said) = early {
            return Err(HarvestError::EndedEarly {
                records: self.state.records,
                said,
            });
        }
        if result.complete {
            self.check_count()?;
        }
        Ok(result)
    }

    /// What the API said of more records, if a walk that reached its end ended early.
    fn ended_early(&self) -> Option<String> {
        let state = &self.state;
        let short = state
            .declared
            .filter(|total| total.exact && state.records < total.value)
            .map(|total| format!("the API declared {} records", total.value))
            .or_else(|| {
                // A page count, where no total is declared, and the walk started at the start.
                self.declared_pages
                    .filter(|&pages| {
                        state.declared.is_none()
                            && state.pages < pages
                            && !state.cursors
                            && !crate::detect::starts_past_the_first_page(&self.options.start)
                    })
                    .map(|pages| format!("the API declared {pages} pages and the walk read {}", state.pages))
            });
        self.said_more
            .as_ref()
            .map(|said| format!("the last page said there is more ({said})"))
            .or(short)
    }

    /// With --strict, fails a complete walk whose count differs from the exact total
    /// declared; warns of one that fell short of a total that is a lower bound.
    fn check_count(&self) -> Result<(), HarvestError> {
        let records = self.state.records;
        if let (true, Some(total)) = (self.options.strict, self.state.declared)
            && total.exact
            && total.value != records
        {
            return Err(HarvestError::CountMismatch {
                got: records,
                declared: total.value,
            });
        }
        if let Some(total) = self
            .state
            .declared
            .filter(|total| !total.exact && records < total.value)
        {
            tracing::warn!("the API declared {total} records but {records} were received");
        }
        Ok(())
    }
}

/// Writes the summary beside the output file, as FILE.manifest.json.
pub(crate) fn write_manifest(path: &Path, summary: &Summary) -> Result<(), HarvestError> {
    let mut manifest = path.as_os_str().to_owned();
    manifest.push(".manifest.json");
    let json = serde_json::to_vec_pretty(summary).unwrap_or_default();
    std::fs::write(&manifest, json).map_err(|e| HarvestError::io("cannot write the manifest", e))
}
