//! Page-size and offset-depth limits, checked before any query runs.

use crate::error::EngineError;

/// The limits one style applies to page sizes and offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The smallest page size a request may ask for (0 where a style allows a page of counts
    /// only, 1 elsewhere).
    pub min_size: u64,
    /// The size of a page when the request gives none.
    pub default_size: u64,
    /// The largest page size a request may ask for. Above it: 422, never a silent clamp.
    pub max_size: u64,
    /// How deep offsets (page numbers) may reach: `offset + size <= max_offset`.
    /// `None` removes the limit.
    pub max_offset: Option<u64>,
}

/// The default offset depth limit: offsets may reach the first 10,000 records.
pub const DEFAULT_MAX_OFFSET: u64 = 10_000;

impl Limits {
    /// Parses and checks a page size given as text. `param` names the request parameter.
    ///
    /// Sizes are whole numbers from 0 to `max_size`; 0 returns no records, only counts.
    pub fn parse_size(&self, text: Option<&str>, param: &str) -> Result<u64, EngineError> {
        let Some(text) = text else {
            return Ok(self.default_size);
        };
        let allowed = format!("a whole number from {} to {}", self.min_size, self.max_size);
        let size = parse_count(text, param, &allowed)?;
        if size < self.min_size {
            return Err(EngineError::InvalidParameter {
                param: param.to_owned(),
                message: format!("is {size}; expected {allowed}"),
            });
        }
        self.check_size(size, param)?;
        Ok(size)
    }

    /// Checks a page size that was already parsed as a number.
    pub fn check_size(&self, size: u64, param: &str) -> Result<(), EngineError> {
        if size > self.max_size {
            return Err(EngineError::PageSizeExceeded {
                param: param.to_owned(),
                got: size,
                max: self.max_size,
            });
        }
        Ok(())
    }

    /// Checks that a page at `offset` of `size` records stays within the offset window.
    /// `param` names the parameter that chose the offset (e.g. `page[number]`) and `instead`
    /// says which cursor method reaches deeper.
    pub fn check_offset(&self, offset: u64, size: u64, param: &str, instead: &str) -> Result<(), EngineError> {
        match self.max_offset {
            Some(max) if offset.saturating_add(size) > max => Err(EngineError::OffsetWindowExceeded {
                param: param.to_owned(),
                offset,
                size,
                max,
                instead: instead.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// Parses a non-negative whole number given as text, with an error naming `param` and saying
/// what is `allowed`.
pub fn parse_count(text: &str, param: &str, allowed: &str) -> Result<u64, EngineError> {
    let t = text;
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        let what = if t.starts_with('-') && t[1..].bytes().all(|b| b.is_ascii_digit()) && t.len() > 1 {
            "is negative"
        } else {
            "is not a whole number"
        };
        return Err(EngineError::InvalidParameter {
            param: param.to_owned(),
            message: format!(
                "{what} (`{}`); expected {allowed}",
                t.chars().take(40).collect::<String>()
            ),
        });
    }
    t.parse::<u64>().map_err(|_| EngineError::InvalidParameter {
        param: param.to_owned(),
        message: format!("is too large; expected {allowed}"),
    })
}
