//! `folio serve --sqlite`: an existing database served as it is, read-only.

use serde_json::json;

use crate::process::{get_json, serve, walk};

fn make_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE materials (id INTEGER PRIMARY KEY, formula TEXT NOT NULL, gap REAL, n INTEGER);
         CREATE INDEX materials_gap ON materials (gap);
         CREATE INDEX materials_n_formula ON materials (n, formula);
         CREATE TABLE logs (msg TEXT, level TEXT);
         CREATE INDEX logs_level ON logs (level);
         CREATE TABLE pairs (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
         CREATE VIEW big_gaps AS SELECT id, formula, gap FROM materials WHERE gap > 2;",
    )
    .unwrap();
    for i in 0..120i64 {
        let gap = if i % 7 == 0 { None } else { Some((i % 13) as f64 / 2.0) };
        conn.execute(
            "INSERT INTO materials (id, formula, gap, n) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i * 3, format!("X{i}"), gap, i % 4],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO logs (msg, level) VALUES (?1, ?2)",
            rusqlite::params![format!("m{i}"), ["info", "warn"][i as usize % 2]],
        )
        .unwrap();
    }
    conn.execute("INSERT INTO pairs VALUES ('a', 'b')", []).unwrap();
}

#[tokio::test]
async fn tables_and_views_are_served_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("user.sqlite");
    make_database(&db);
    let before = std::fs::read(&db).unwrap();
    let files_before = std::fs::read_dir(dir.path()).unwrap().count();

    let server = serve(&dir.path().join("folio-data"), &["--sqlite", db.to_str().unwrap()]);
    let (_, listing) = get_json(&format!("{}/jsonapi", server.base)).await;
    let names: Vec<&str> = listing["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["big_gaps", "logs", "materials"],
        "the WITHOUT ROWID table with a composite key is skipped"
    );
    let materials = &listing["data"][2]["attributes"];
    assert_eq!(materials["idPath"], "id");
    let paths = materials["indexedPaths"].as_array().unwrap();
    let named = |keep: &dyn Fn(&serde_json::Value) -> bool| -> Vec<&str> {
        paths
            .iter()
            .filter(|p| keep(p))
            .map(|p| p["path"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        named(&|p| p["sortable"] == true),
        ["id", "gap", "n"],
        "columns that lead an index"
    );
    assert_eq!(
        named(&|p| p["indexed"] == false),
        ["formula"],
        "the other columns are paths too, filtered by scanning"
    );

    // Rows come back as they are, in the engine's order (missing gaps last, then first).
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut rows: Vec<(Option<f64>, i64, serde_json::Value)> = conn
        .prepare("SELECT id, formula, gap, n FROM materials")
        .unwrap()
        .query_map([], |r| {
            let (id, formula, gap, n): (i64, String, Option<f64>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            Ok((gap, id, json!({"id": id, "formula": formula, "gap": gap, "n": n})))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.1.cmp(&b.1)),
        (None, None) => a.1.cmp(&b.1),
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
    });
    let ascending: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
    assert_eq!(walk(&server.base, "materials", "sort=gap").await, ascending);
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(walk(&server.base, "materials", "sort=-gap").await, descending);

    let filtered = walk(&server.base, "materials", "filter[n]=2&sort=-id").await;
    assert!(filtered.len() == 30 && filtered.iter().all(|r| r["n"] == 2));
    let view = walk(&server.base, "big_gaps", "").await;
    assert_eq!(
        view.len(),
        ascending
            .iter()
            .filter(|r| r["gap"].as_f64().is_some_and(|g| g > 2.0))
            .count()
    );
    let logs = walk(&server.base, "logs", "filter[level]=warn").await;
    assert_eq!(logs.len(), 60);
    assert_eq!(
        logs[0],
        json!({"rowid": 2, "msg": "m1", "level": "warn"}),
        "rowid tables carry their rowid as the id"
    );

    // Sorting on a column no index leads with is refused, listing what can be sorted.
    let (status, body) = get_json(&format!("{}/jsonapi/materials?sort=formula", server.base)).await;
    assert_eq!(status, 400);
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("gap"), "{detail}");
    assert!(
        detail.contains(r#"CREATE INDEX "materials_formula" ON "materials" ("formula")"#),
        "the index that would make it sortable: {detail}"
    );

    drop(server);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "nothing is written to the user's file"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        files_before + 1,
        "only folio's own data dir appears"
    );
}
