//! `folio serve --postgres` and `folio import --postgres`: stateless servers over one database.

use std::collections::HashSet;

use serde_json::json;

use crate::process::{folio, get_json, serve_with_secret};

const SECRET: &str = "a secret shared by every server of the database";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Two servers with the same secret serve one walk, page by page in turn: every record once.
/// A server with another secret refuses their cursors.
#[test]
fn a_walk_alternating_between_two_servers_sees_every_record_once() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = ["--demo", "--demo-size", "1200", "--postgres", pg.url.as_str()];
    let first = serve_with_secret(&dir.path().join("a"), &demo, Some(SECRET));
    // The second server has no local state at all: a data directory of its own, and the
    // collections come from the database.
    let second = serve_with_secret(&dir.path().join("b"), &["--postgres", pg.url.as_str()], Some(SECRET));
    let other = serve_with_secret(
        &dir.path().join("c"),
        &["--postgres", pg.url.as_str()],
        Some("a different secret, long enough"),
    );

    rt.block_on(async {
        let mut ids = Vec::new();
        let mut next = Some("/jsonapi/entries?page[cursor]=1&page[size]=50&sort=-upload_create_time".to_owned());
        let mut turn = 0;
        let mut token_path = None;
        while let Some(path) = next {
            let base = if turn % 2 == 0 { &first.base } else { &second.base };
            turn += 1;
            let (status, body) = get_json(&format!("{base}{path}")).await;
            assert_eq!(status, 200, "{path}: {body}");
            ids.extend(
                body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["id"].as_str().unwrap().to_owned()),
            );
            next = body["links"]["next"].as_str().map(str::to_owned);
            if token_path.is_none() {
                token_path = next.clone();
            }
        }
        assert_eq!(turn, 24, "1200 records in pages of 50");
        assert_eq!(ids.len(), 1200);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1200, "no record twice");

        let (status, body) = get_json(&format!("{}{}", other.base, token_path.unwrap())).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["code"], "invalid-cursor");
    });
}

#[test]
fn import_into_postgres_and_serve_it() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.jsonl");
    let docs: Vec<_> = (0..30)
        .map(|i| json!({"id": i, "tags": [format!("t{}", i % 3)], "score": i % 7}))
        .collect();
    std::fs::write(&file, docs.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
    let out = folio(&[
        "import",
        file.to_str().unwrap(),
        "--collection",
        "x",
        "--id",
        "id",
        "--postgres",
        &pg.url,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = folio(&[
        "import",
        file.to_str().unwrap(),
        "--collection",
        "x",
        "--id",
        "id",
        "--postgres",
        &pg.url,
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && stderr.contains("line 1") && stderr.contains("duplicate id `0`"),
        "{stderr}"
    );

    let server = serve_with_secret(&dir.path().join("d"), &["--postgres", pg.url.as_str()], Some(SECRET));
    rt.block_on(async {
        let records = crate::process::walk(&server.base, "x", "filter[tags]=t1&sort=-score").await;
        assert_eq!(records.len(), 10);
        assert!(
            records
                .windows(2)
                .all(|w| w[0]["score"].as_i64() >= w[1]["score"].as_i64())
        );
    });
}

/// PostgreSQL names hold at most 63 bytes, and a collection's tables are `folio_c_NAME`: a
/// name of 55 characters imports and serves, a longer one is refused before the file is read
/// (it once failed with "identifier too long", or two long names shared one table), with the
/// limit named; the embedded store takes it.
#[test]
fn collection_names_too_long_for_postgresql_are_refused_up_front() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.jsonl");
    std::fs::write(&file, "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
    let import = |name: &str, file: &str, store: &[&str]| {
        let mut args = vec!["import", file, "--collection", name, "--id", "id"];
        args.extend(store);
        folio(&args)
    };
    let longest = "n".repeat(55);
    let out = import(&longest, file.to_str().unwrap(), &["--postgres", &pg.url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let missing = dir.path().join("never-read.jsonl");
    for long in ["n".repeat(56), "m".repeat(64)] {
        let out = import(&long, missing.to_str().unwrap(), &["--postgres", &pg.url]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("--collection")
                && stderr.contains(&format!("is {} characters long", long.len()))
                && stderr.contains("at most 55"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("never-read") && !stderr.contains("identifier"),
            "{stderr}"
        );
    }
    let data = dir.path().join("data");
    let out = import(
        &"n".repeat(64),
        file.to_str().unwrap(),
        &["--data-dir", data.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let server = serve_with_secret(&dir.path().join("d"), &["--postgres", pg.url.as_str()], Some(SECRET));
    rt.block_on(async {
        let records = crate::process::walk(&server.base, &longest, "").await;
        assert_eq!(records, [json!({"id": 1}), json!({"id": 2})]);
        let (_, listing) = get_json(&format!("{}/jsonapi", server.base)).await;
        let names = crate::process::collection_names(&listing);
        assert_eq!(names, [longest.as_str()], "nothing of the refused names was created");
    });
}

#[test]
fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = folio(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--postgres",
        "postgres://bob:hunter2@127.0.0.1:1/folio",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bob@127.0.0.1:1/folio") && !stderr.contains("hunter2"),
        "{stderr}"
    );
}

/// PostgreSQL text cannot hold NUL (U+0000): values, ids and keys holding one are refused
/// before SQL, projected paths holding one name nothing, and an import of such a value stops
/// with its line instead of failing in the database.
#[test]
fn nul_characters_are_refused_before_postgresql() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n.jsonl");
    let docs: String = (0..5)
        .map(|i| {
            format!(
                "{}\n",
                json!({"id": format!("r{i}"), "name": format!("n{i}"), "tags": ["a"]})
            )
        })
        .collect();
    std::fs::write(&file, docs).unwrap();
    let import = |path: &std::path::Path| {
        folio(&[
            "import",
            path.to_str().unwrap(),
            "--collection",
            "n",
            "--id",
            "id",
            "--index",
            "name:string",
            "--index",
            "tags:string[]",
            "--postgres",
            &pg.url,
        ])
    };
    let out = import(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": \"r9\", \"name\": \"a\\u0000b\", \"tags\": []}\n").unwrap();
    let out = import(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("line 1") && stderr.contains("NUL"),
        "{stderr}"
    );

    let server = serve_with_secret(&dir.path().join("d"), &["--postgres", pg.url.as_str()], Some(SECRET));
    rt.block_on(async {
        let filter = "%7B%22name%22%3A%22a%5Cu0000b%22%7D";
        for (path, status) in [
            ("/jsonapi/n?fields[n]=name,a%00b".to_owned(), 200),
            ("/jsonapi/n?filter[name]=a%00b".to_owned(), 400),
            ("/jsonapi/n?filter[tags][all]=a,b%00".to_owned(), 400),
            (format!("/simple/n?query={filter}"), 400),
            ("/jsonapi/n/r%001".to_owned(), 404),
            ("/hal/n?pagination_type=search_after&search_after=r%001".to_owned(), 400),
            ("/query/n?order_by=name&page_after_value=a%00:r1".to_owned(), 422),
        ] {
            let response = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                status,
                "{path}: {}",
                response.text().await.unwrap()
            );
        }
        let (_, body) = get_json(&format!("{}/jsonapi/n?fields[n]=name,a%00b", server.base)).await;
        assert_eq!(body["data"][0]["attributes"], json!({"name": "n0"}));
    });
}

/// `folio drop --postgres` with a server running on the same database.
#[test]
fn a_dropped_collection_is_gone_for_a_running_server() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(crate::import::drop_while_serving(
        dir.path(),
        &["--postgres", pg.url.as_str()],
    ));
}

/// A JSON array larger than the memory the import may use goes in whole: the document is read
/// as a stream. (Into PostgreSQL, where the import holds a batch at a time; the embedded store
/// gives its import a page cache of up to 256 MiB by design, README "Your own data".)
#[test]
fn a_json_array_larger_than_the_memory_limit_imports() {
    let rt = runtime();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let records = 340_000u64;
    {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        out.write_all(b"[\n").unwrap();
        for i in 0..records {
            let separator = if i + 1 < records { ",\n" } else { "\n" };
            let record =
                json!({"id": i, "name": format!("record {i}"), "tags": ["a", "b"], "nested": {"pad": "x".repeat(80)}});
            write!(out, "  {record}{separator}").unwrap();
        }
        out.write_all(b"]\n").unwrap();
    }
    let size = std::fs::metadata(&file).unwrap().len();
    // The data segment (heap and anonymous mappings) may hold 32 MiB: less than the file.
    let limit_kib = 32 * 1024;
    assert!(
        size > limit_kib * 1024 * 3 / 2,
        "the file ({size} bytes) is well over the limit"
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -d {limit_kib} && exec \"$0\" import \"$1\" --collection big --id id --postgres \"$2\""
        ))
        .arg(env!("CARGO_BIN_EXE_folio"))
        .arg(&file)
        .arg(&pg.url)
        .env_remove("FOLIO_SECRET")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("imported {records} records into `big`")),
        "{said}"
    );
}
