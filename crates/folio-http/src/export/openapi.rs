//! Downloads in the OpenAPI document: `GET /export/{collection}.ndjson` and `.csv`.

use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Paths};

use super::request::{AFTER_PARAM, CURSOR_PARAM, Format};
use super::{CURSOR_HEADER, ID_PATH_HEADER};
use crate::openapi::dsl::{query, response, string};
use crate::openapi::styles::{Collection, SIMPLE, Style, errors, operation};

/// The parameters of a download: a JSON:API list's, but for `page[...]`, and `cursor` and
/// `after` to resume.
fn params(c: &Collection<'_>) -> Vec<Parameter> {
    let mut params: Vec<Parameter> = crate::jsonapi::list_params(c)
        .into_iter()
        .filter(|p| !p.name.starts_with("page"))
        .collect();
    params.push(query(
        CURSOR_PARAM,
        string(),
        &format!(
            "resumes a download: the `{CURSOR_HEADER}` header of the one being resumed (its query and moment), given with `{AFTER_PARAM}`; or a JSON:API walk's cursor, to download the rest of that walk"
        ),
    ));
    params.push(query(
        AFTER_PARAM,
        string(),
        &format!(
            "resumes a download after the record with this id (the last whole record received; its path is in `{ID_PATH_HEADER}`): the rest of the result at the moment of `{CURSOR_PARAM}`, without a CSV header"
        ),
    ));
    params
}

/// `GET /export/{collection}.ndjson` and `GET /export/{collection}.csv` of `c`.
pub(crate) fn add(c: &Collection<'_>, paths: &mut Paths) {
    for format in Format::ALL {
        let header = |description: &str| {
            HeaderBuilder::new()
                .schema(Some(string()))
                .description(Some(description))
                .build()
        };
        let what = match format {
            Format::Ndjson => {
                "every record of the result, each document (or its `fields`, with the id) on a line of its own"
            }
            Format::Csv => {
                "a header of dotted paths (the id's, then the `fields` asked for or every indexed path), then a row per record (RFC 4180; arrays and objects as JSON text; missing and null values empty)"
            }
        };
        let body = ContentBuilder::new().schema(Some(string())).build();
        let ok = response(what, format.media_type(), string())
            .content(format.media_type(), body)
            .header(
                CURSOR_HEADER,
                header("the download's cursor: give it back as `cursor`, with `after`, to resume"),
            )
            .header(ID_PATH_HEADER, header("the dotted path of each record's id"))
            .header("Content-Disposition", header("`attachment`, with a file name"));
        let mut responses = vec![("200".to_owned(), ok)];
        responses.extend(errors(SIMPLE, &[400, 401, 404, 410, 500, 503]));
        let op = operation(
            Style::export(),
            c.op_id("export", format.extension()),
            &format!(
                "Download every record of `{}` that matches, in order, as {}: one streamed response, read at one moment, resumable",
                c.name(),
                format.label()
            ),
            params(c),
            responses,
        );
        paths.add_path_operation(
            c.at("export", &format!(".{}", format.extension())),
            vec![HttpMethod::Get],
            op.build(),
        );
    }
}
