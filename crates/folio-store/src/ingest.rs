//! Turning a JSON document into the values a store keeps for it.

use folio_engine::value::{lookup, string_array};
use folio_engine::{CollectionSchema, FieldType, Value};

use crate::StoreError;

/// A document split into what a store indexes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The id (never null).
    pub(crate) id: Value,
    /// One entry per indexed path: the scalar value, or the elements of a `string[]` path.
    pub(crate) columns: Vec<Cell>,
    /// The document as compact JSON text.
    pub(crate) doc: String,
}

/// The value of one indexed path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// A scalar value (possibly NULL).
    Scalar(Value),
    /// The elements of a `string[]` path.
    Elements(Vec<String>),
}

/// Extracts the id and indexed values of `doc`; `index` (1-based) names it in errors.
pub(crate) fn row(schema: &CollectionSchema, doc: &serde_json::Value, index: u64) -> Result<Row, StoreError> {
    let invalid = |message: String| StoreError::InvalidDocument { line: index, message };
    if !doc.is_object() {
        return Err(invalid("is not a JSON object".into()));
    }
    let id = Value::id_from_json(lookup(doc, &schema.id_path), schema.id_type)
        .map_err(|e| invalid(format!("id path `{}`: {e}", schema.id_path)))?;
    if id == Value::Null {
        return Err(invalid(format!("has no id at `{}`", schema.id_path)));
    }
    let columns = schema
        .indexed
        .iter()
        .map(|p| {
            let found = lookup(doc, &p.path);
            let cell = match p.ty {
                FieldType::StringArray => string_array(found).map(Cell::Elements),
                ty => Value::from_json(found, ty).map(Cell::Scalar),
            };
            cell.map_err(|e| invalid(format!("path `{}` ({}): {e}", p.path, p.ty)))
        })
        .collect::<Result<_, _>>()?;
    Ok(Row {
        id,
        columns,
        doc: doc.to_string(),
    })
}

/// An id as text: the text itself, or the integer's digits (for messages, and for comparing
/// ids across statements).
pub(crate) fn id_text(id: &Value) -> String {
    match id {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}
