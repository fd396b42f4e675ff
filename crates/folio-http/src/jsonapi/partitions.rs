//! `GET /jsonapi/{collection}/-/partitions?count=N`: a result cut into up to N parts of about
//! equal size at the keys of its page map ([`crate::maps`]), each with the link that starts
//! its cursor walk, for clients that read a result in parallel.
//!
//! A part's cursors carry the key of its last record, so its walk stops there: walking every
//! part to its end reads every record of the result exactly once, in any order and on any
//! server sharing the secret, with nothing kept on a server. A part's pages link only to the
//! next one. They have no total; the part's `records` is counted by the map. On a store that
//! keeps versions every part reads the moment the partitions were cut at (`meta.snapshotAt`),
//! so the parts are one moment's result however the collection changes while they are read.

use axum::extract::{Path, RawQuery, State};
use folio_engine::Partition;
use folio_engine::limits::parse_count;
use serde_json::json;

use super::{JsonApi, document, request};
use crate::access::Caller;
use crate::error::ApiError;
use crate::links::{self, Target};
use crate::params::invalid;
use crate::state::AppState;
use crate::style::Answer;

/// The most partitions one request may ask for.
pub(crate) const MAX_PARTITIONS: u64 = 256;

/// List parameters that do not apply here: each part's link says where its walk starts.
const NOT_HERE: [&str; 5] = [
    "page[number]",
    "page[cursor]",
    "page[after]",
    "page[before]",
    "page[total]",
];

pub(super) async fn partitions(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer<JsonApi> {
    let collection = state.readable(&caller, &collection).await?;
    let (count, rest) = split_count(raw.as_deref())?;
    let req = request::parse_list(&state.codec(), &collection, Some(&rest), &state.config)?;
    let reading = &req.paging.reading;
    let (parts, total, moment) = state.partitions(reading, count).await?;
    let size = ("page[size]", req.paging.size().to_string());
    let list = Target::new(
        format!("/jsonapi/{}", links::segment(collection.name())),
        req.carry.clone(),
    );
    let codec = state.codec();
    let data: Vec<serde_json::Value> = parts
        .iter()
        .zip(1..)
        .map(|(Partition { after, until, records }, n)| {
            let token = reading.partition_cursor(&codec, after.as_ref(), until.as_ref(), moment);
            json!({
                "type": "partitions",
                "id": n.to_string(),
                "attributes": {"records": records},
                "links": {"first": list.with(&[("page[cursor]", token), size.clone()]).href()},
            })
        })
        .collect();
    let self_ = Target::new(
        format!("/jsonapi/{}/-/partitions", links::segment(collection.name())),
        req.carry.clone(),
    )
    .with(&[("count", count.to_string()), size]);
    let mut meta = json!({"total": total, "partitions": parts.len()});
    if let Some(at) = moment.and_then(|m| document::snapshot_at(m.at_ms)) {
        meta["snapshotAt"] = json!(at);
    }
    Ok(document::partitions(json!({
        "data": data,
        "meta": meta,
        "links": {"self": self_.href()},
    })))
}

/// `count`, checked, and the other parameters (those of a list request), with the ones that
/// do not apply here refused.
fn split_count(raw: Option<&str>) -> Result<(usize, String), ApiError> {
    let mut count = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key == "count" {
            if count.is_some() {
                return Err(invalid("count", "is given more than once".into()));
            }
            let allowed = format!("a whole number from 1 to {MAX_PARTITIONS}");
            let n = parse_count(&value, "count", &allowed)?;
            if !(1..=MAX_PARTITIONS).contains(&n) {
                return Err(invalid("count", format!("is {n}; expected {allowed}")));
            }
            count = Some(n);
        } else if let Some(param) = NOT_HERE.iter().find(|p| **p == key) {
            return Err(invalid(
                param,
                "does not apply to partitions: each partition's links.first starts its walk".into(),
            ));
        } else {
            rest.append_pair(&key, &value);
        }
    }
    let count = count.ok_or_else(|| {
        invalid(
            "count",
            format!("is missing; give the number of partitions wanted, from 1 to {MAX_PARTITIONS}"),
        )
    })?;
    Ok((usize::try_from(count).unwrap_or(usize::MAX), rest.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_is_required_once_in_range_and_page_positions_are_refused() {
        let (count, rest) = split_count(Some("count=4&sort=-t&page%5Bsize%5D=10")).unwrap();
        assert_eq!((count, rest.as_str()), (4, "sort=-t&page%5Bsize%5D=10"));
        for (raw, param, says) in [
            ("sort=t", "count", "is missing"),
            ("count=0", "count", "is 0; expected a whole number from 1 to 256"),
            ("count=257", "count", "is 257"),
            ("count=x", "count", "a whole number from 1 to 256"),
            ("count=2&count=3", "count", "more than once"),
            ("count=2&page[number]=3", "page[number]", "does not apply to partitions"),
            ("count=2&page[cursor]=1", "page[cursor]", "does not apply to partitions"),
        ] {
            let e = split_count(Some(raw)).unwrap_err();
            assert_eq!(e.param(), Some(param), "{raw}");
            assert!(e.detail().contains(says), "{raw}: {}", e.detail());
        }
    }
}
