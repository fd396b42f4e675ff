//! How records are written: as the server sent them, or rebuilt from named columns, chosen
//! fields, or a record spread over lines; and the check that `--fields` names something.

use folio_engine::projection::assemble;
use folio_engine::value::lookup;
use serde_json::Value as Json;

use crate::error::HarvestError;
use crate::plan::{Plan, Response};

/// Checks that every `--fields` path is in some record of the first page.
pub(crate) fn check_fields(
    fields: &[String],
    plan: &Plan,
    response: &Response,
    records: &[&str],
) -> Result<(), HarvestError> {
    let shape = Shape::of(plan, response, None);
    let parsed: Vec<Json> = records.iter().filter_map(|r| shape.value(r).ok()).collect();
    if parsed.is_empty() {
        return Ok(());
    }
    for path in fields {
        if !parsed.iter().any(|record| field(record, path).is_some()) {
            let mut available: Vec<String> = Vec::new();
            if let Some(Json::Object(first)) = parsed.first() {
                available.extend(first.keys().map(|k| format!("`{k}`")));
                if let Some(Json::Object(attributes)) = first.get("attributes") {
                    available.extend(attributes.keys().map(|k| format!("`{k}`")));
                }
            }
            return Err(HarvestError::NoSuchField {
                path: path.clone(),
                available: if available.is_empty() {
                    "no members".into()
                } else {
                    available.join(", ")
                },
            });
        }
    }
    Ok(())
}

/// The value of `path` in a record, or in its `attributes` (a JSON:API resource).
fn field<'a>(record: &'a Json, path: &str) -> Option<&'a Json> {
    lookup(record, path).or_else(|| record.get("attributes").and_then(|a| lookup(a, path)))
}

/// How records of one page are written: as the server sent them, or rebuilt (named columns,
/// chosen fields, or a record spread over lines).
pub(crate) struct Shape<'a> {
    columns: Option<Vec<String>>,
    fields: Option<&'a [String]>,
    multiline: bool,
}

impl<'a> Shape<'a> {
    /// The shape of the records of `response`, read by `plan`, keeping `fields` if given.
    pub(crate) fn of(plan: &Plan, response: &Response, fields: Option<&'a [String]>) -> Shape<'a> {
        let columns = plan.columns.as_ref().and_then(|path| {
            let names: Vec<String> = serde_json::from_value(crate::plan::value_at(&response.body, path)?).ok()?;
            Some(names)
        });
        Shape {
            columns,
            fields,
            multiline: response.body.multiline(),
        }
    }

    /// A record as a value: arrays of values named by the columns.
    fn value(&self, text: &str) -> Result<Json, HarvestError> {
        let record: Json = serde_json::from_str(text)
            .map_err(|e| HarvestError::io("cannot read a record", std::io::Error::other(e)))?;
        Ok(match (&self.columns, record) {
            (Some(names), Json::Array(values)) => Json::Object(names.iter().cloned().zip(values).collect()),
            (_, record) => record,
        })
    }

    /// Appends a record as one line.
    pub(crate) fn write(&self, text: &str, lines: &mut Vec<u8>) -> Result<(), HarvestError> {
        if self.columns.is_none() && self.fields.is_none() && (!self.multiline || !text.contains('\n')) {
            // The server's own text.
            lines.extend_from_slice(text.as_bytes());
        } else {
            let record = self.value(text)?;
            let record = match self.fields {
                None => record,
                Some(paths) => assemble(
                    paths
                        .iter()
                        .filter_map(|p| field(&record, p).map(|v| (p.clone(), v.clone()))),
                ),
            };
            serde_json::to_writer(&mut *lines, &record)
                .map_err(|e| HarvestError::io("cannot encode a record", std::io::Error::other(e)))?;
        }
        lines.push(b'\n');
        Ok(())
    }
}
