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
    let names = crate::process::collection_names(&listing);
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

/// A filter on a column no index serves scans the table: a scan longer than
/// `--request-timeout` is answered with a 503 in time, and is stopped, so that it holds no
/// read connection and the next request is answered at once (the server has four).
#[tokio::test]
async fn a_scan_longer_than_the_time_limit_is_cut_off_and_frees_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("slow.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    // `rank` costs a pass over the table per row: a scan of the view takes many seconds.
    conn.execute_batch(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO big (id, v) SELECT i, printf('%08d', (i * 7919) % 20011) FROM n;
         CREATE VIEW slow AS SELECT id, (SELECT count(*) FROM big b WHERE b.v <= big.v) AS rank FROM big;",
    )
    .unwrap();
    drop(conn);
    let server = serve(
        &dir.path().join("folio-data"),
        &["--sqlite", db.to_str().unwrap(), "--request-timeout", "0.5"],
    );
    let slow = format!("{}/jsonapi/slow?filter%5Brank%5D=-1", server.base);
    let started = std::time::Instant::now();
    let scans: Vec<_> = (0..6).map(|_| tokio::spawn(get_json_owned(slow.clone()))).collect();
    for scan in scans {
        let (status, body) = scan.await.unwrap();
        assert_eq!(status, 503, "{body}");
        // Time-outs are answered before a style is chosen: a problem, in every style.
        assert_eq!(body["code"], "request-timeout", "{body}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let (status, body) = get_json(&format!("{}/jsonapi/big?page%5Bsize%5D=2", server.base)).await;
    assert_eq!(status, 200, "the scans no one waits for were stopped: {body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
}

async fn get_json_owned(url: String) -> (u16, serde_json::Value) {
    get_json(&url).await
}

/// A file shaped as people publish them, with no index at all (`mendeleev`'s elements):
/// every column is filterable, JSON text is served as JSON, arrays of strings filter with
/// `any`, and the browse page shows every column.
#[tokio::test]
async fn a_file_without_indexes_filters_on_every_column_and_serves_json_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elements.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        r#"CREATE TABLE elements (atomic_number INTEGER PRIMARY KEY, name TEXT, symbol TEXT, mass REAL,
                                  states TEXT, data TEXT);
           INSERT INTO elements VALUES (1, 'Hydrogen', 'H', 1.008, '["-1","1"]', '{"group": 1}');
           INSERT INTO elements VALUES (8, 'Oxygen', 'O', 15.999, '["-2"]', '{"group": 16}');
           INSERT INTO elements VALUES (22, 'Titanium', 'Ti', 47.867, '["2","3","4"]', NULL);
           INSERT INTO elements VALUES (26, 'Iron', 'Fe', 55.845, '["2","3"]', '{"group": 8}');"#,
    )
    .unwrap();
    drop(conn);
    let server = serve(&dir.path().join("folio-data"), &["--sqlite", db.to_str().unwrap()]);
    let base = &server.base;

    let (status, body) = get_json(&format!("{base}/jsonapi/elements?filter%5Bsymbol%5D=O")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let oxygen = &body["data"][0]["attributes"];
    assert_eq!(oxygen["states"], json!(["-2"]), "JSON text is served as JSON");
    assert_eq!(oxygen["data"], json!({"group": 16}));
    assert_eq!(body["meta"]["unindexedFilters"], json!(["symbol"]), "{body}");

    let ranged = walk(base, "elements", "filter%5Bmass%5D%5Bgt%5D=20").await;
    let names: Vec<&str> = ranged.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Titanium", "Iron"]);
    let three = walk(base, "elements", "filter%5Bstates%5D%5Bany%5D=3").await;
    let names: Vec<&str> = three.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Titanium", "Iron"], "arrays of strings filter with any");

    let (status, body) = get_json(&format!("{base}/jsonapi/elements?sort=name")).await;
    assert_eq!(status, 400);
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(r#"CREATE INDEX "elements_name" ON "elements" ("name")"#),
        "{detail}"
    );

    let html = browse_html(base, "elements").await;
    for column in ["name", "symbol", "mass", "states"] {
        assert!(
            html.contains(&format!("name=\"filter[{column}]")),
            "a filter input for {column}"
        );
        assert!(html.contains(&format!(">{column}</th>")), "a column for {column}");
    }
}

/// A column declared `BOOLEAN` that holds 0, 1 and NULL (as SQLite keeps booleans, and as
/// `mendeleev`'s `is_radioactive` does) is served as `true`/`false`, and filters, sorts,
/// cursors and search-after keys take the same values: a walk filtered on it gives the rows
/// SQLite gives, in the engine's order, and a `query` walk by `<value>:<id>` keys reaches
/// every row once.
#[tokio::test]
async fn boolean_columns_are_served_filtered_sorted_and_keyed_as_true_and_false() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elements.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE elements (atomic_number INTEGER PRIMARY KEY, symbol TEXT, is_radioactive BOOLEAN);
         CREATE INDEX elements_is_radioactive ON elements (is_radioactive);",
    )
    .unwrap();
    for n in 1..=250i64 {
        let radioactive = match n % 7 {
            0 => None,
            r => Some(i64::from(r % 3 == 0)),
        };
        conn.execute(
            "INSERT INTO elements VALUES (?1, ?2, ?3)",
            rusqlite::params![n, format!("E{n}"), radioactive],
        )
        .unwrap();
    }
    let ids = |sql: &str| ids_of(&conn, sql);
    let server = serve(&dir.path().join("folio-data"), &["--sqlite", db.to_str().unwrap()]);
    let base = &server.base;
    let numbers = |records: &[serde_json::Value]| -> Vec<i64> {
        records.iter().map(|r| r["atomic_number"].as_i64().unwrap()).collect()
    };

    let (_, listing) = get_json(&format!("{base}/jsonapi")).await;
    let paths = &listing["data"][0]["attributes"]["indexedPaths"];
    let flag = paths
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "is_radioactive")
        .unwrap();
    assert_eq!(flag["type"], "boolean", "{paths}");

    let radioactive = walk(base, "elements", "filter%5Bis_radioactive%5D=true&sort=-atomic_number").await;
    assert_eq!(
        numbers(&radioactive),
        ids("SELECT atomic_number FROM elements WHERE is_radioactive = 1 ORDER BY atomic_number DESC")
    );
    assert!(
        radioactive.iter().all(|r| r["is_radioactive"] == json!(true)),
        "{radioactive:?}"
    );
    let stable = walk(base, "elements", "filter%5Bis_radioactive%5D=false").await;
    assert_eq!(
        numbers(&stable),
        ids("SELECT atomic_number FROM elements WHERE is_radioactive = 0 ORDER BY atomic_number")
    );
    assert!(stable.iter().all(|r| r["is_radioactive"] == json!(false)));

    // Sorted on it: false, true, then the rows without a value (missing values sort last).
    let sorted = walk(base, "elements", "sort=is_radioactive").await;
    let expected =
        ids("SELECT atomic_number FROM elements ORDER BY is_radioactive IS NULL, is_radioactive, atomic_number");
    assert_eq!(numbers(&sorted), expected);
    let values: Vec<&serde_json::Value> = sorted.iter().map(|r| &r["is_radioactive"]).collect();
    assert!(values.iter().all(|v| v.is_boolean() || v.is_null()), "{values:?}");

    // Search-after keys read `true:ID`, and a walk by them gives the same order.
    let mut keyed = Vec::new();
    let mut url = format!("{base}/query/elements?page_size=40&order_by=is_radioactive&order=desc");
    loop {
        let (status, body) = get_json(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        keyed.extend(numbers(body["data"].as_array().unwrap()));
        let Some(key) = body["pagination"]["next_page_after_value"].as_str() else {
            break;
        };
        let value = key.rsplit_once(':').unwrap().0;
        assert!(["true", "false", "$null"].contains(&value), "{key}");
        url = format!("{base}/query/elements?page_size=40&order_by=is_radioactive&order=desc&page_after_value={key}");
    }
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(keyed, reversed);

    // Filters take the values records show, not SQLite's 0 and 1.
    let (status, body) = get_json(&format!("{base}/jsonapi/elements?filter%5Bis_radioactive%5D=1")).await;
    assert_eq!(status, 400, "{body}");
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("`true` or `false`"), "{detail}");
}

/// The real `mendeleev` database of the elements, as its wheel on PyPI ships it
/// (`scripts/peers.sh` fetches it): 12 tables that nobody here shaped, with no secondary
/// index, tried as a new user would. Every table walks to its end, filters on any column give
/// what SQLite itself gives, sorts say which index they need, the log says so in one line per
/// table, and the file is left as it was.
#[tokio::test]
async fn mendeleevs_database_of_the_elements_is_served_as_it_ships() {
    let shipped = crate::peers::peers_target().join("peers-files/mendeleev/elements.db");
    if !shipped.is_file() {
        return crate::peers::skip(&shipped.display().to_string()).unwrap_or(());
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elements.db");
    std::fs::copy(&shipped, &db).unwrap();
    let before = std::fs::read(&db).unwrap();
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = crate::process::serve_with(
        &dir.path().join("folio-data"),
        &["--sqlite", db.to_str().unwrap()],
        |c| {
            c.stderr(log);
        },
    );
    let base = &server.base;

    let (status, listing) = get_json(&format!("{base}/jsonapi")).await;
    assert_eq!(status, 200, "{listing}");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let served = crate::process::collection_names(&listing);
    assert_eq!(served, tables, "every table is a collection");
    for table in &tables {
        let count: usize = conn
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0))
            .unwrap();
        let records = walk(base, table, "").await;
        assert_eq!(records.len(), count, "a cursor walk of {table} ends after every row");
    }

    // Filters on columns no index leads give what SQLite gives.
    let ids = |sql: &str| ids_of(&conn, sql);
    let served_ids = |records: Vec<serde_json::Value>, id: &str| -> Vec<i64> {
        records.iter().map(|r| r[id].as_i64().unwrap()).collect()
    };
    let dense = walk(base, "elements", "filter%5Bdensity%5D%5Bgt%5D=15").await;
    let expected = ids("SELECT atomic_number FROM elements WHERE density > 15 ORDER BY atomic_number");
    assert!(expected.len() > 5, "{expected:?}");
    assert_eq!(served_ids(dense, "atomic_number"), expected);
    let oxygen_isotopes = walk(
        base,
        "isotopes",
        "filter%5Batomic_number%5D=8&filter%5Bmass_number%5D%5Bgte%5D=16",
    )
    .await;
    let expected = ids("SELECT id FROM isotopes WHERE atomic_number = 8 AND mass_number >= 16 ORDER BY id");
    assert!(!expected.is_empty());
    assert_eq!(served_ids(oxygen_isotopes, "id"), expected);
    let (status, body) = get_json(&format!("{base}/jsonapi/elements?filter%5Bsymbol%5D=O")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["attributes"]["name"], "Oxygen");
    assert_eq!(body["meta"]["unindexedFilters"], json!(["symbol"]));

    let (status, body) = get_json(&format!("{base}/jsonapi/elements?sort=-density")).await;
    assert_eq!(status, 400, "{body}");
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(r#"CREATE INDEX "elements_density" ON "elements" ("density")"#),
        "{detail}"
    );

    let html = browse_html(base, "elements").await;
    for column in ["name", "symbol", "density", "electronic_configuration"] {
        assert!(
            html.contains(&format!("name=\"filter[{column}]")),
            "a filter input for {column}"
        );
    }

    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let advice = log.lines().filter(|l| l.contains("have no index")).count();
    assert!(
        (1..=tables.len()).contains(&advice),
        "at most one line of index advice per table, not one per column:\n{log}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is not written");
}

/// The browse page of `collection`, as a browser asks for it.
async fn browse_html(base: &str, collection: &str) -> String {
    reqwest::Client::new()
        .get(format!("{base}/browse/{collection}"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The integers of the first column of what `sql` selects.
fn ids_of(conn: &rusqlite::Connection, sql: &str) -> Vec<i64> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
