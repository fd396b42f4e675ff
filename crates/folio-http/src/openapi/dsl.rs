//! A few short constructors over utoipa's OpenAPI model, so that the style modules of the
//! document read like the shapes they describe.

use serde_json::Value as Json;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};

/// A schema, or a reference to one of the document's components.
pub(crate) type S = RefOr<Schema>;

/// A value of one JSON type.
pub(crate) fn of(ty: Type) -> S {
    ObjectBuilder::new().schema_type(ty).into()
}

/// A string.
pub(crate) fn string() -> S {
    of(Type::String)
}

/// A non-negative integer.
pub(crate) fn count() -> S {
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).into()
}

/// Any JSON value.
pub(crate) fn any() -> S {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue).into()
}

/// Any JSON object.
pub(crate) fn any_object(description: &str) -> S {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .into()
}

/// A value of `ty`, or `null`.
pub(crate) fn nullable(ty: Type) -> S {
    ObjectBuilder::new()
        .schema_type(SchemaType::Array(vec![ty, Type::Null]))
        .into()
}

/// A whole number from `min`, up to `max` when given.
pub(crate) fn integer(min: u64, max: Option<u64>, default: Option<u64>) -> S {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(max)
        .default(default.map(Json::from))
        .into()
}

/// One of a few strings.
pub(crate) fn one_of(values: &[&str]) -> S {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// Exactly this string.
pub(crate) fn constant(value: &str) -> S {
    one_of(&[value])
}

/// A list of `items`.
pub(crate) fn array(items: S) -> S {
    ArrayBuilder::new().items(items).into()
}

/// A list of at most `max` `items`.
pub(crate) fn bounded_array(items: S, max: usize) -> S {
    ArrayBuilder::new().items(items).max_items(Some(max)).into()
}

/// A reference to the component schema `name`.
pub(crate) fn component(name: &str) -> S {
    Ref::from_schema_name(name).into()
}

/// An object with these properties (`true`: required); others are allowed unless `closed`.
pub(crate) fn object(properties: Vec<(&str, S, bool)>, closed: bool) -> S {
    let mut builder = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema, required) in properties {
        builder = builder.property(name, schema);
        if required {
            builder = builder.required(name);
        }
    }
    if closed {
        builder = builder.additional_properties(Some(AdditionalProperties::FreeForm(false)));
    }
    builder.into()
}

/// Adds a description to a schema written inline.
pub(crate) fn described(schema: S, description: &str) -> S {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.description = Some(description.to_owned());
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::Array(mut array)) => {
            array.description = Some(description.to_owned());
            RefOr::T(Schema::Array(array))
        }
        other => other,
    }
}

/// An optional query parameter.
pub(crate) fn query(name: &str, schema: S, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// An optional query parameter holding a comma-separated list.
pub(crate) fn query_list(name: &str, items: S, description: &str) -> Parameter {
    let mut parameter = query(name, array(items), description);
    parameter.style = Some(ParameterStyle::Form);
    parameter.explode = Some(false);
    parameter
}

/// A path parameter.
pub(crate) fn path(name: &str, schema: S, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// A response with a body of one media type.
pub(crate) fn response(description: &str, media_type: &str, schema: S) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(media_type, ContentBuilder::new().schema(Some(schema)).build())
}

/// The `Link` header of list responses (RFC 8288).
pub(crate) fn link_header(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Link",
        utoipa::openapi::HeaderBuilder::new()
            .schema(Some(string()))
            .description(Some(
                "RFC 8288 links to the neighbouring pages: `<href>; rel=\"next\"`, comma-separated",
            ))
            .build(),
    )
}

/// A JSON request body.
pub(crate) fn json_body(schema: S, description: &str) -> RequestBody {
    RequestBodyBuilder::new()
        .description(Some(description))
        .required(Some(Required::False))
        .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
        .build()
}
