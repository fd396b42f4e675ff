//! Sort orders, always made total by the id as the last field.

use crate::error::EngineError;
use crate::schema::{CollectionSchema, Column};

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Smallest first; NULLs last.
    Asc,
    /// Largest first; NULLs first.
    Desc,
}

impl Direction {
    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::Asc => Direction::Desc,
            Direction::Desc => Direction::Asc,
        }
    }
}

/// One field of a sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortField {
    /// The column sorted on.
    pub column: Column,
    /// Its direction.
    pub direction: Direction,
}

/// A total sort order: zero or more indexed paths, then the id.
///
/// **Invariant:** the last field is [`Column::Id`], in the direction of the field before it
/// (ascending when it stands alone), and no column appears twice. So an index on
/// `(path, id)` serves a one-path sort in a single scan, forwards or backwards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sort {
    fields: Vec<SortField>,
}

/// At most this many paths may be given in one sort.
pub const MAX_SORT_PATHS: usize = 8;

impl Sort {
    /// The default order: id ascending.
    pub fn by_id() -> Sort {
        Sort {
            fields: vec![SortField {
                column: Column::Id,
                direction: Direction::Asc,
            }],
        }
    }

    /// Builds a total order from the fields a user asked for, appending the id tiebreaker.
    ///
    /// A field on the id itself ends the order there (the id is unique, so later fields could
    /// never break a tie), keeping the id's requested direction.
    pub fn new(requested: impl IntoIterator<Item = SortField>) -> Sort {
        let mut fields = Vec::new();
        for field in requested {
            if fields.iter().any(|f: &SortField| f.column == field.column) {
                continue;
            }
            fields.push(field);
            if field.column == Column::Id {
                return Sort { fields };
            }
        }
        let direction = fields.last().map_or(Direction::Asc, |f| f.direction);
        fields.push(SortField {
            column: Column::Id,
            direction,
        });
        Sort { fields }
    }

    /// Parses a comma-separated sort such as `-upload_create_time,provider`, where a leading
    /// `-` means descending and an optional leading `+` ascending.
    ///
    /// `param` names the request parameter in errors.
    pub fn parse(spec: &str, schema: &CollectionSchema, param: &str) -> Result<Sort, EngineError> {
        let unsupported = |path: &str, reason: &str| EngineError::UnsupportedSort {
            param: param.to_owned(),
            path: path.to_owned(),
            reason: reason.to_owned(),
            allowed: schema.sortable_paths(),
        };
        if spec.trim().is_empty() {
            return Ok(Sort::by_id());
        }
        let mut requested = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            let (direction, path) = match part.strip_prefix('-') {
                Some(rest) => (Direction::Desc, rest),
                None => (Direction::Asc, part.strip_prefix('+').unwrap_or(part)),
            };
            let Some((column, ty)) = schema.resolve(path) else {
                return Err(unsupported(path, "is not an indexed path"));
            };
            if !ty.is_sortable() {
                return Err(unsupported(
                    path,
                    "is a string[] path, which can be filtered but not sorted",
                ));
            }
            if let Column::Indexed(n) = column
                && let Some(advice) = &schema.indexed[n].unindexed
            {
                let reason = format!("has no index, so it can be filtered on (by a scan) but not sorted; {advice}");
                return Err(unsupported(path, &reason));
            }
            if requested.iter().any(|f: &SortField| f.column == column) {
                return Err(unsupported(path, "is given twice"));
            }
            requested.push(SortField { column, direction });
        }
        if requested.len() > MAX_SORT_PATHS {
            return Err(EngineError::InvalidParameter {
                param: param.to_owned(),
                message: format!("has {} paths; at most {MAX_SORT_PATHS} are allowed", requested.len()),
            });
        }
        Ok(Sort::new(requested))
    }

    /// The fields, ending with the id.
    pub fn fields(&self) -> &[SortField] {
        &self.fields
    }

    /// The canonical text of the order (`-a,b,id`), used in fingerprints and links.
    pub fn to_spec(&self, schema: &CollectionSchema) -> String {
        self.fields
            .iter()
            .map(|f| {
                let sign = if f.direction == Direction::Desc { "-" } else { "" };
                format!("{sign}{}", schema.path_of(f.column))
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}
