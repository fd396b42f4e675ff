//! Snapshot walks as a fleet serves them: a cursor walk started before an import that
//! replaces every record, adds some, and a delete of others, continued after both on two
//! servers in turn, returns exactly the records of its first page's moment with their old
//! content; a walk started after them reads the new state. On both stores.

use std::path::Path;

use serde_json::{Value as Json, json};

use crate::process::{Server, folio, get_json, on_postgres, on_sqlite, serve_with_secret};

/// The fleet's shared cursor secret.
const SECRET: &str = "a shared secret of the fleet, at least 32 bytes long";

/// Imports records `ids` with version `v` into `things`, replacing those already there.
fn import(target: &[&str], dir: &Path, ids: std::ops::Range<u64>, v: u64) {
    let file = dir.join(format!("things-{v}.jsonl"));
    let lines: String = ids
        .map(|id| format!("{}\n", json!({"id": id, "name": format!("n{id}"), "v": v})))
        .collect();
    std::fs::write(&file, lines).unwrap();
    let mut args = vec![
        "import",
        file.to_str().unwrap(),
        "--collection",
        "things",
        "--id",
        "id",
        "--on-duplicate",
        "replace",
    ];
    args.extend(target);
    let out = folio(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// One page: its records' `(id, v)`, its `meta`, and its next link.
async fn page(server: &Server, url: &str) -> (Vec<(u64, u64)>, Json, Option<String>) {
    let (status, body) = get_json(&format!("{}{url}", server.base)).await;
    assert_eq!(status, 200, "{url}: {body}");
    let records = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["attributes"];
            (a["id"].as_u64().unwrap(), a["v"].as_u64().unwrap())
        })
        .collect();
    let next = body["links"]["next"].as_str().map(str::to_owned);
    (records, body["meta"].clone(), next)
}

/// Walks from `first` to the end, each page from the next server of `servers` in turn.
async fn walk(servers: &[&Server], first: &str) -> Vec<(u64, u64)> {
    let mut seen = Vec::new();
    let mut next = Some(first.to_owned());
    let mut turn = 0;
    while let Some(url) = next {
        let (records, _, following) = page(servers[turn % servers.len()], &url).await;
        seen.extend(records);
        next = following;
        turn += 1;
    }
    seen
}

fn check(target: &[&str], data_dir: &Path, serve_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    import(target, dir.path(), 0..60, 1);
    let a = serve_with_secret(data_dir, serve_args, Some(SECRET));
    let b = serve_with_secret(data_dir, serve_args, Some(SECRET));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for sort in ["", "&sort=-name"] {
            let first = format!("/jsonapi/things?page[cursor]=1&page[size]=7{sort}");
            let before: Vec<(u64, u64)> = {
                let mut ids: Vec<u64> = (0..60).collect();
                if !sort.is_empty() {
                    ids.sort_by_key(|id| std::cmp::Reverse(format!("n{id}")));
                }
                ids.into_iter().map(|id| (id, 1)).collect()
            };
            // A walk under way: its first page, read from server A before the writes.
            let (mut seen, meta, mut next) = page(&a, &first).await;
            assert_eq!(meta["total"], json!(60), "{meta}");
            let at = meta["snapshotAt"]
                .as_str()
                .expect("a cursor walk says its snapshot's time")
                .to_owned();

            // Every record replaced (v 2), ten added, and five deleted (one of them new).
            import(target, dir.path(), 0..70, 2);
            let out = folio(&[&["delete", "things", "7", "21", "35", "49", "63"][..], target].concat());
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

            // Continued on B, A, B, ...: the moment of its first page, old content and all,
            // with the total counted then.
            let mut turn = 1;
            while let Some(url) = next {
                let server = if turn % 2 == 1 { &b } else { &a };
                let (records, meta, following) = page(server, &url).await;
                assert_eq!(
                    meta["total"],
                    json!(60),
                    "later pages carry the first page's total: {meta}"
                );
                assert_eq!(meta["snapshotAt"], json!(at), "{meta}");
                seen.extend(records);
                next = following;
                turn += 1;
            }
            assert_eq!(seen, before, "sort `{sort}`");

            // A walk started now, across both servers, reads the present.
            let now = walk(&[&b, &a], &first).await;
            let mut expected: Vec<u64> = (0..70).filter(|id| ![7, 21, 35, 49, 63].contains(id)).collect();
            if !sort.is_empty() {
                expected.sort_by_key(|id| std::cmp::Reverse(format!("n{id}")));
            }
            assert_eq!(
                now,
                expected.into_iter().map(|id| (id, 2)).collect::<Vec<_>>(),
                "sort `{sort}`"
            );

            // Back to the first state for the next sort: v 1 again and the deleted restored.
            let out = folio(
                &[
                    &["delete", "things"][..],
                    &(60..70)
                        .map(|id| id.to_string())
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                    target,
                ]
                .concat(),
            );
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            import(target, dir.path(), 0..60, 1);
        }
    });
}

#[test]
fn a_walk_reads_its_first_pages_moment_across_servers_on_sqlite() {
    on_sqlite(check);
}

#[test]
fn a_walk_reads_its_first_pages_moment_across_servers_on_postgres() {
    on_postgres(check);
}
