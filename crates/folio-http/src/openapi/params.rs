//! What the styles' parameter descriptions share (each style describes its own parameters
//! in its folder's `openapi.rs`, beside the parser that accepts them, and a unit test there
//! fails for a name the parser accepts without a description).

use folio_engine::{FieldType, Limits};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use super::dsl::{S, of, string};

/// The schema of a filter value written as text for a path of type `ty`.
pub(crate) fn value_schema(ty: FieldType) -> S {
    match ty {
        FieldType::Integer => of(Type::Integer),
        FieldType::Float => of(Type::Number),
        FieldType::Boolean => of(Type::Boolean),
        FieldType::Timestamp => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into(),
        FieldType::String | FieldType::StringArray => string(),
    }
}

/// How far page numbers reach, as the start of a page parameter's description that ends
/// with the style's way to go deeper.
pub(crate) fn window(limits: &Limits) -> String {
    match limits.max_offset {
        Some(max) => format!(
            "within the first {max} records (offset + size <= {max}) a page number is an offset; deeper ones are read through the result's page map, which the server builds on first use (until then, and on servers run with --no-page-maps, a 422 that says to retry); go deeper at once with "
        ),
        None => "page numbers reach any depth on this server; cursors cost less deep down: ".to_owned(),
    }
}
