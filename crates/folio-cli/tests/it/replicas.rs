//! Reads from PostgreSQL's streaming replicas (`folio serve --postgres-replica`), against a
//! real primary and replica made for each test (`initdb`, `pg_basebackup -R`): walks across
//! servers stay exact while imports run, the replica serves the pages, its loss costs the
//! client nothing, and a replica behind a walk's moment is never read for it.

use std::path::Path;
use std::time::{Duration, Instant};

use folio_testkit::PgReplication;
use serde_json::json;

use crate::process::{Server, folio, get_json, serve_with_secret};

/// The fleet's shared cursor secret.
const SECRET: &str = "a shared secret of the replicated fleet, 32 bytes or more";

/// Imports records `ids` with version `v` into `things` on the primary at `primary`,
/// replacing those already there.
fn import_into(primary: &str, dir: &Path, ids: std::ops::Range<u64>, v: u64) -> std::process::Output {
    let file = dir.join(format!("things-{}-{}-{v}.jsonl", ids.start, ids.end));
    let lines: String = ids
        .map(|id| format!("{}\n", json!({"id": id, "name": format!("n{id:05}"), "v": v})))
        .collect();
    std::fs::write(&file, lines).unwrap();
    folio(&[
        "import",
        file.to_str().unwrap(),
        "--collection",
        "things",
        "--id",
        "id",
        "--on-duplicate",
        "replace",
        "--postgres",
        primary,
    ])
}

/// [`import_into`] the primary of `pg`, which must succeed.
fn import(pg: &PgReplication, dir: &Path, ids: std::ops::Range<u64>, v: u64) {
    let out = import_into(&pg.primary_url, dir, ids, v);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Waits until the replica has replayed everything the primary wrote so far.
fn caught_up(pg: &PgReplication) {
    let lsn = pg.sql(&pg.primary_url, "SELECT pg_current_wal_lsn()");
    let started = Instant::now();
    while pg.sql(
        &pg.replica_url,
        &format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
    ) != "t"
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replica did not catch up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server reading from the replica, in a data directory of its own.
fn replicated(pg: &PgReplication, dir: &Path, name: &str) -> Server {
    serve_with_secret(
        &dir.join(name),
        &["--postgres", &pg.primary_url, "--postgres-replica", &pg.replica_url],
        Some(SECRET),
    )
}

/// Scans of the collection's sort indexes (`(nN, cN, id)`: those pages read, not the id
/// indexes an import looks records up in) on the server at `url`, as its statistics count them.
fn page_scans(pg: &PgReplication, url: &str) -> i64 {
    pg.sql(
        url,
        "SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes \
         WHERE relname = 'folio_c_things' AND indexrelname LIKE '%\\_id\\_idx'",
    )
    .parse()
    .unwrap()
}

/// One page: its records' `(id, v)` and its next link.
async fn page(server: &Server, url: &str) -> (Vec<(u64, u64)>, Option<String>) {
    let (status, body) = get_json(&format!("{}{url}", server.base)).await;
    assert_eq!(status, 200, "{url}: {body}");
    let records = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["attributes"]["id"].as_u64().unwrap(),
                r["attributes"]["v"].as_u64().unwrap(),
            )
        })
        .collect();
    (records, body["links"]["next"].as_str().map(str::to_owned))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const FIRST: &str = "/jsonapi/things?page[cursor]=1&page[size]=50&sort=name";

/// A walk alternating between two servers while another process imports into the collection
/// reads every record of its first page's moment exactly once, in order, and the replica
/// serves the pages (its own statistics count the scans).
#[test]
fn walks_across_servers_during_imports_are_exact_and_read_the_replica() {
    let Some(pg) = PgReplication::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    import(&pg, dir.path(), 0..2000, 1);
    caught_up(&pg);
    let (a, b) = (replicated(&pg, dir.path(), "a"), replicated(&pg, dir.path(), "b"));
    let (replica_before, primary_before) = (page_scans(&pg, &pg.replica_url), page_scans(&pg, &pg.primary_url));
    let rt = rt();
    let mut writer = None;
    let (mut seen, mut next, mut pages) = (Vec::new(), Some(FIRST.to_owned()), 0);
    while let Some(url) = next {
        let (records, following) = rt.block_on(page(if pages % 2 == 0 { &a } else { &b }, &url));
        seen.extend(records);
        next = following;
        pages += 1;
        if pages == 3 {
            // Another process replaces every record and adds as many, while the walk goes on.
            let (primary, dir) = (pg.primary_url.clone(), dir.path().to_owned());
            writer = Some(std::thread::spawn(move || import_into(&primary, &dir, 0..4000, 2)));
        }
    }
    let out = writer.unwrap().join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: Vec<(u64, u64)> = (0..2000).map(|id| (id, 1)).collect();
    assert_eq!(
        seen, expected,
        "the records of the first page's moment, once each, in order"
    );
    // Servers gone, their connections' statistics are written.
    drop((a, b));
    let started = Instant::now();
    let read_on_replica = loop {
        let read = page_scans(&pg, &pg.replica_url) - replica_before;
        if read >= pages || started.elapsed() > Duration::from_secs(15) {
            break read;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read_on_primary = page_scans(&pg, &pg.primary_url) - primary_before;
    // Every page and every page read ahead is a scan of the sort index where it is read.
    assert!(
        read_on_replica >= pages && read_on_replica > 4 * read_on_primary,
        "{pages} pages: {read_on_replica} scans on the replica, {read_on_primary} on the primary"
    );
}

/// A replica stopped at once mid-walk costs the walk nothing: it ends with every record,
/// and `/health` soon shows the replica out of rotation.
#[test]
fn a_walk_finishes_when_the_replica_stops_mid_way() {
    let Some(pg) = PgReplication::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    import(&pg, dir.path(), 0..1000, 1);
    caught_up(&pg);
    let server = replicated(&pg, dir.path(), "a");
    let rt = rt();
    rt.block_on(async {
        let (status, health) = get_json(&format!("{}/health", server.base)).await;
        assert_eq!(status, 200);
        assert_eq!(health["replicas"][0]["inRotation"], json!(true), "{health}");
        let (mut seen, mut next, mut pages) = (Vec::new(), Some(FIRST.to_owned()), 0);
        while let Some(url) = next {
            let (records, following) = page(&server, &url).await;
            seen.extend(records);
            next = following;
            pages += 1;
            if pages == 4 {
                pg.stop_replica().unwrap();
            }
        }
        assert_eq!(seen, (0..1000).map(|id| (id, 1)).collect::<Vec<_>>());
        in_rotation_within(&server, false, Duration::from_secs(3)).await;
    });
    // Back, it is put in rotation again.
    pg.start_replica().unwrap();
    rt.block_on(in_rotation_within(&server, true, Duration::from_secs(10)));
}

/// Waits until `/health` shows the replica in rotation (or out of it), for at most `within`.
async fn in_rotation_within(server: &Server, wanted: bool, within: Duration) {
    let started = Instant::now();
    loop {
        let (_, health) = get_json(&format!("{}/health", server.base)).await;
        if health["replicas"][0]["inRotation"] == json!(wanted) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "in rotation is not {wanted} after {within:?}: {health}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A replica whose replay is paused is never read for a page of a walk whose moment it has
/// not replayed: a walk begun on the primary after a write the replica lacks reads that
/// write's records, on a server with the replica, to its end.
#[test]
fn a_replica_behind_a_walks_moment_is_not_read_for_it() {
    let Some(pg) = PgReplication::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    import(&pg, dir.path(), 0..500, 1);
    caught_up(&pg);
    pg.sql(&pg.replica_url, "SELECT pg_wal_replay_pause()");
    import(&pg, dir.path(), 0..500, 2);
    let primary_only = serve_with_secret(&dir.path().join("p"), &["--postgres", &pg.primary_url], Some(SECRET));
    let server = replicated(&pg, dir.path(), "a");
    let rt = rt();
    rt.block_on(async {
        let (status, health) = get_json(&format!("{}/health", server.base)).await;
        assert_eq!(status, 200);
        assert_eq!(health["replicas"][0]["replayPaused"], json!(true), "{health}");
        // The replica's present is the old one: a new walk there reads v 1.
        let (records, _) = page(&server, FIRST).await;
        assert!(records.iter().all(|&(_, v)| v == 1), "{records:?}");
        // A walk whose first page came from the primary reads v 2, to its end.
        let (mut seen, mut next) = page(&primary_only, FIRST).await;
        while let Some(url) = next {
            let (records, following) = page(&server, &url).await;
            seen.extend(records);
            next = following;
        }
        assert_eq!(seen, (0..500).map(|id| (id, 2)).collect::<Vec<_>>());
    });
    pg.sql(&pg.replica_url, "SELECT pg_wal_replay_resume()");
}

/// Replicas need snapshots: without them a cursor would not say what it read.
#[test]
fn replicas_without_snapshots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = folio(&[
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--postgres",
        "postgres://postgres@127.0.0.1:1/none",
        "--postgres-replica",
        "postgres://postgres@127.0.0.1:2/none",
        "--snapshot-retention",
        "0",
    ]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--postgres-replica needs snapshots"), "{said}");
}

/// A server given as a replica that is not one (here the primary itself) is never put in
/// rotation: it could hold anything. Pages are then read from the primary.
#[test]
fn a_server_that_is_not_a_replica_is_left_out() {
    let rt = rt();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with_secret(
        dir.path(),
        &[
            "--demo",
            "--demo-size",
            "50",
            "--postgres",
            &pg.url,
            "--postgres-replica",
            &pg.url,
        ],
        Some(SECRET),
    );
    rt.block_on(async {
        let (status, health) = get_json(&format!("{}/health", server.base)).await;
        assert_eq!(status, 200);
        assert_eq!(health["replicas"][0]["inRotation"], json!(false), "{health}");
        let (status, body) = get_json(&format!("{}/jsonapi/entries?page[size]=5", server.base)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"].as_array().unwrap().len(), 5);
    });
}
