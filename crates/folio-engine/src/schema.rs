//! Collection schemas: the id path, the indexed paths and their types.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// The type of an indexed path. It decides how values are parsed, stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// UTF-8 text, compared byte-wise (code point order).
    String,
    /// A signed 64-bit integer.
    Integer,
    /// A finite 64-bit float.
    Float,
    /// `true` or `false`; `false` sorts first.
    Boolean,
    /// An RFC 3339 date-time, compared as an instant (microsecond precision).
    Timestamp,
    /// An array of strings: filterable by membership, not sortable.
    #[serde(rename = "string[]")]
    StringArray,
}

impl FieldType {
    /// Every type, in the order the docs list them.
    pub const ALL: [FieldType; 6] = [
        FieldType::String,
        FieldType::Integer,
        FieldType::Float,
        FieldType::Boolean,
        FieldType::Timestamp,
        FieldType::StringArray,
    ];

    /// The name used in schemas, errors and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
            FieldType::StringArray => "string[]",
        }
    }

    /// Parses a type name as written by [`FieldType::name`].
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether records may be sorted on a path of this type.
    pub fn is_sortable(self) -> bool {
        self != FieldType::StringArray
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type of a collection's id: unique, never null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdType {
    /// Text ids, ordered byte-wise.
    String,
    /// Integer ids, ordered numerically.
    Integer,
}

impl IdType {
    /// The field type that values of this id type have.
    pub fn field_type(self) -> FieldType {
        match self {
            IdType::String => FieldType::String,
            IdType::Integer => FieldType::Integer,
        }
    }
}

/// One indexed path: a dotted path into the documents and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedPath {
    /// The dotted path, e.g. `results.material.n_elements`.
    pub path: String,
    /// How values at the path are typed.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// `None` when an index serves the path. `Some(advice)` when none does (a column of a
    /// user's SQLite file that no index starts with): filters on the path then scan the
    /// collection, bounded by the request's time limit and counted with a cap, and it cannot
    /// be sorted; `advice` says what would index it (a `CREATE INDEX` statement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unindexed: Option<String>,
    /// Whether the index that serves the path keeps ties in the id's opposite direction
    /// (`(path DESC, id)` or `(path, id DESC)`, as a user's SQLite file may have it): a sort
    /// on the path then breaks ties on the id the other way, so that the index still serves
    /// it in one scan. `false` for the stores' own indexes, which run both the same way.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ties_reversed: bool,
}

impl IndexedPath {
    /// A path an index serves.
    pub fn new(path: impl Into<String>, ty: FieldType) -> IndexedPath {
        IndexedPath {
            path: path.into(),
            ty,
            unindexed: None,
            ties_reversed: false,
        }
    }

    /// Whether the path can be sorted on: indexed, and not a `string[]` path.
    pub fn is_sortable(&self) -> bool {
        self.ty.is_sortable() && self.unindexed.is_none()
    }
}

/// A column the engine can sort or filter on: the id, or the n-th indexed path of the schema.
///
/// Stores map columns to their physical names; the engine only ever names them this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// The collection's id.
    Id,
    /// `schema.indexed[n]`.
    Indexed(usize),
}

/// The schema of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSchema {
    /// The collection's name (see [`validate_collection_name`]).
    pub name: String,
    /// The dotted path of the id in each document.
    pub id_path: String,
    /// The type of the id.
    pub id_type: IdType,
    /// The indexed paths, in a fixed order (their position is their [`Column::Indexed`] number).
    pub indexed: Vec<IndexedPath>,
}

impl CollectionSchema {
    /// Resolves a dotted path to a column and its type; the id path resolves to [`Column::Id`].
    pub fn resolve(&self, path: &str) -> Option<(Column, FieldType)> {
        if path == self.id_path {
            return Some((Column::Id, self.id_type.field_type()));
        }
        self.indexed
            .iter()
            .position(|p| p.path == path)
            .map(|n| (Column::Indexed(n), self.indexed[n].ty))
    }

    /// The dotted path of a column.
    pub fn path_of(&self, column: Column) -> &str {
        match column {
            Column::Id => &self.id_path,
            Column::Indexed(n) => &self.indexed[n].path,
        }
    }

    /// The type of a column.
    pub fn type_of(&self, column: Column) -> FieldType {
        match column {
            Column::Id => self.id_type.field_type(),
            Column::Indexed(n) => self.indexed[n].ty,
        }
    }

    /// The paths that may be sorted on: the id path and every sortable indexed path.
    pub fn sortable_paths(&self) -> Vec<String> {
        std::iter::once(self.id_path.clone())
            .chain(self.indexed.iter().filter(|p| p.is_sortable()).map(|p| p.path.clone()))
            .collect()
    }

    /// Whether a column is served by no index (filters on it scan the collection).
    pub fn is_unindexed(&self, column: Column) -> bool {
        match column {
            Column::Id => false,
            Column::Indexed(n) => self.indexed[n].unindexed.is_some(),
        }
    }

    /// The paths that may be filtered on: the id path and every indexed path.
    pub fn filterable_paths(&self) -> Vec<String> {
        std::iter::once(self.id_path.clone())
            .chain(self.indexed.iter().map(|p| p.path.clone()))
            .collect()
    }

    /// Checks the schema itself: a valid name, a non-empty id path, distinct indexed paths that
    /// do not repeat the id path.
    pub fn validate(&self) -> Result<(), EngineError> {
        validate_collection_name(&self.name)?;
        validate_path(&self.id_path)?;
        let mut seen = std::collections::HashSet::new();
        for p in &self.indexed {
            validate_path(&p.path)?;
            if p.path == self.id_path || !seen.insert(p.path.as_str()) {
                return Err(EngineError::InvalidSchema(format!(
                    "path `{}` is indexed twice (the id path is always indexed)",
                    p.path
                )));
            }
        }
        Ok(())
    }
}

/// Collection names are 1 to 64 characters of ASCII letters, digits, `_` and `-`, starting
/// with a letter or digit, so that they are safe in URLs and identifiers everywhere.
pub fn validate_collection_name(name: &str) -> Result<(), EngineError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidSchema(format!(
            "collection name `{name}` must be 1 to 64 ASCII letters, digits, `_` or `-`, \
             starting with a letter or digit"
        )))
    }
}

/// Paths are non-empty dot-separated segments, none of them empty.
fn validate_path(path: &str) -> Result<(), EngineError> {
    if path.is_empty() || path.len() > 256 || path.split('.').any(str::is_empty) {
        return Err(EngineError::InvalidSchema(format!(
            "path `{path}` must be 1 to 256 characters of non-empty dot-separated segments"
        )));
    }
    Ok(())
}
