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
/// **Invariant:** the last field is [`Column::Id`], and no column appears twice. Unless the
/// id is asked for, it runs in the direction of the field before it (ascending when it
/// stands alone), or the opposite one where that path's index keeps ties so
/// ([`IndexedPath::ties_reversed`](crate::IndexedPath::ties_reversed)). So the index on
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
        // The tiebreaker runs as the last path's index keeps ties, where that is the other way.
        if let Some(&SortField {
            column: Column::Indexed(n),
            direction,
        }) = requested.last()
            && schema.indexed[n].ties_reversed
        {
            requested.push(SortField {
                column: Column::Id,
                direction: direction.reverse(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FieldType, IdType, IndexedPath};

    fn schema() -> CollectionSchema {
        let mut reversed = IndexedPath::new("b", FieldType::String);
        reversed.ties_reversed = true;
        CollectionSchema {
            name: "c".into(),
            id_path: "id".into(),
            id_type: IdType::String,
            indexed: vec![IndexedPath::new("a", FieldType::Integer), reversed],
        }
    }

    fn tiebreak(spec: &str) -> Direction {
        let sort = Sort::parse(spec, &schema(), "sort").unwrap();
        let last = sort.fields().last().unwrap();
        assert_eq!(last.column, Column::Id);
        last.direction
    }

    #[test]
    fn the_id_breaks_ties_as_the_last_paths_index_keeps_them() {
        assert_eq!(tiebreak("a"), Direction::Asc);
        assert_eq!(tiebreak("-a"), Direction::Desc);
        assert_eq!(tiebreak("b"), Direction::Desc);
        assert_eq!(tiebreak("-b"), Direction::Asc);
        assert_eq!(tiebreak("b,-a"), Direction::Desc);
        assert_eq!(tiebreak("a,-b"), Direction::Asc);
        // An id that is asked for keeps its direction.
        assert_eq!(tiebreak("-b,-id"), Direction::Desc);
        assert_eq!(tiebreak(""), Direction::Asc);
    }

    #[test]
    fn the_canonical_spec_parses_to_the_same_order() {
        let schema = schema();
        for spec in ["a", "-a", "b", "-b", "a,-b", "-b,a", "-b,-id"] {
            let sort = Sort::parse(spec, &schema, "sort").unwrap();
            let again = Sort::parse(&sort.to_spec(&schema), &schema, "sort").unwrap();
            assert_eq!(again, sort, "{spec}");
        }
    }
}
