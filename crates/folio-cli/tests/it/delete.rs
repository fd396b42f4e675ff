//! `folio delete`: records retracted by id in one transaction, on both stores, while a cursor
//! walk goes on past them; ids that cannot be the collection's are refused before anything is
//! deleted.

use std::path::Path;

use serde_json::json;

use crate::process::{folio, get_json, on_postgres, on_sqlite, serve};

/// Imports records with ids `0..n` into `things`.
fn import(target: &[&str], dir: &Path, n: u64) {
    let file = dir.join("things.jsonl");
    let lines: String = (0..n)
        .map(|id| format!("{}\n", json!({"id": id, "name": format!("n{id}")})))
        .collect();
    std::fs::write(&file, lines).unwrap();
    let mut args = vec!["import", file.to_str().unwrap(), "--collection", "things", "--id", "id"];
    args.extend(target);
    let out = folio(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn delete(target: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["delete", "things"];
    args.extend(extra);
    args.extend(target);
    folio(&args)
}

async fn ids_of_page(url: &str) -> (Vec<u64>, Option<String>) {
    let (status, body) = get_json(url).await;
    assert_eq!(status, 200, "{body}");
    let ids = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attributes"]["id"].as_u64().unwrap())
        .collect();
    (ids, body["links"]["next"].as_str().map(str::to_owned))
}

fn check(target: &[&str], data_dir: &Path, serve_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    import(target, dir.path(), 50);
    let server = serve(data_dir, serve_args);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A walk under way: its first page, before the delete.
        let first = format!("{}/jsonapi/things?page[cursor]=1&page[size]=10", server.base);
        let (mut seen, mut next) = ids_of_page(&first).await;
        assert_eq!(seen, (0..10).collect::<Vec<_>>());

        // An id that cannot be one of the collection's: nothing is deleted.
        let refused = delete(target, &["15", "abc"]);
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("argument 2: id `abc` is not an integer"), "{stderr}");

        let list = dir.path().join("retracted.txt");
        std::fs::write(&list, "40\n\n999\n15\n").unwrap();
        let out = delete(target, &["3", "15", "--ids-from", list.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("deleted 3 records from `things`; 1 id was not in the collection"),
            "{stderr}"
        );

        // The walk reads the moment of its first page, deleted records included, once each.
        while let Some(url) = next {
            let (ids, following) = ids_of_page(&format!("{}{url}", server.base)).await;
            seen.extend(ids);
            next = following;
        }
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        // A walk started now reads the present.
        let mut now = Vec::new();
        let mut next = Some("/jsonapi/things?page[cursor]=1&page[size]=10".to_owned());
        while let Some(url) = next {
            let (ids, following) = ids_of_page(&format!("{}{url}", server.base)).await;
            now.extend(ids);
            next = following;
        }
        let expected: Vec<u64> = (0..50).filter(|id| ![3, 15, 40].contains(id)).collect();
        assert_eq!(now, expected);
        let (status, body) = get_json(&format!("{}/jsonapi/things/3", server.base)).await;
        assert_eq!(status, 404, "{body}");
        let (_, body) = get_json(&format!("{}/jsonapi/things?page[size]=0", server.base)).await;
        assert_eq!(body["meta"]["total"], json!(47), "50 less 3, 15 and 40");

        // Past the retention of a server that keeps versions one second, a walk that needs
        // the versions a delete superseded expires: a 410 that links to a fresh first page.
        let brief = serve(data_dir, &[serve_args, &["--snapshot-retention", "1s"][..]].concat());
        let first = format!("{}/jsonapi/things?page[cursor]=1&page[size]=10", brief.base);
        let (status, body) = get_json(&first).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["meta"]["snapshotAt"].is_string(), "{body}");
        let next = format!("{}{}", brief.base, body["links"]["next"].as_str().unwrap());
        let out = delete(target, &["20"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let body = loop {
            let (status, body) = get_json(&next).await;
            if status == 410 {
                break body;
            }
            assert_eq!(status, 200, "{body}");
            assert!(std::time::Instant::now() < deadline, "the snapshot never expired");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        assert_eq!(body["errors"][0]["code"], json!("snapshot-expired"), "{body}");
        assert_eq!(
            body["errors"][0]["source"]["parameter"],
            json!("page[cursor]"),
            "{body}"
        );
        let detail = body["errors"][0]["detail"].as_str().unwrap();
        assert!(
            detail.ends_with("/jsonapi/things?page%5Bcursor%5D=1&page%5Bsize%5D=10"),
            "{detail}"
        );
    });

    let unknown = folio(&[&["delete", "nothing", "1"][..], target].concat());
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("there is no collection `nothing`; collections: things"),
        "{stderr}"
    );
}

#[test]
fn delete_retracts_records_in_one_transaction_on_sqlite() {
    on_sqlite(check);
}

#[test]
fn delete_retracts_records_in_one_transaction_on_postgres() {
    on_postgres(check);
}
