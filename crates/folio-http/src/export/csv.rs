//! Records as RFC 4180 CSV: a header of dotted paths, then one row per record, lines ended by
//! CRLF.
//!
//! A field is the value at its column's path: text as it is, numbers as JSON writes them,
//! `true`/`false`, arrays and objects as compact JSON text; a missing value or `null` is an
//! empty field, and an empty text is `""`, so the two stay apart. A field with a comma, a
//! quote, a CR or an LF (or an empty text) is quoted, its quotes doubled.

use serde_json::Value as Json;

/// Appends the header row: the column paths.
pub(crate) fn header(columns: &[String], out: &mut Vec<u8>) {
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(column, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the row of one stored document (JSON text) for `columns`.
///
/// # Errors
/// When `doc` is not JSON, which a store never hands out.
pub(crate) fn row(columns: &[String], doc: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let doc: Json = serde_json::from_slice(doc)?;
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match folio_engine::value::lookup(&doc, column) {
            None | Some(Json::Null) => {}
            Some(Json::String(s)) => text(s, out),
            Some(scalar @ (Json::Number(_) | Json::Bool(_))) => out.extend_from_slice(scalar.to_string().as_bytes()),
            Some(nested) => text(&nested.to_string(), out),
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends `s` as a field, quoted when it must be.
fn text(s: &str, out: &mut Vec<u8>) {
    let quoted = s.is_empty() || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !quoted {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for part in s.split_inclusive('"') {
        out.extend_from_slice(part.as_bytes());
        if part.ends_with('"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn rendered(columns: &[&str], doc: &Json) -> String {
        let columns: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        let mut out = Vec::new();
        header(&columns, &mut out);
        row(&columns, doc.to_string().as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_written_as_the_convention_says() {
        let doc = json!({
            "id": "a,1", "n": 2.5, "ok": true, "none": null, "empty": "",
            "quote": "say \"hi\"", "lines": "a\r\nb", "list": ["x", 1], "nested": {"b": 3},
        });
        let got = rendered(
            &[
                "id", "n", "ok", "none", "missing", "empty", "quote", "lines", "list", "nested.b", "nested",
            ],
            &doc,
        );
        assert_eq!(
            got,
            "id,n,ok,none,missing,empty,quote,lines,list,nested.b,nested\r\n\
             \"a,1\",2.5,true,,,\"\",\"say \"\"hi\"\"\",\"a\r\nb\",\"[\"\"x\"\",1]\",3,\"{\"\"b\"\":3}\"\r\n"
        );
    }

    proptest! {
        /// Whatever the texts, a CSV parser reads back the fields as written.
        #[test]
        fn a_csv_parser_reads_back_every_text(texts in prop::collection::vec(any::<String>(), 1..6)) {
            let columns: Vec<String> = (0..texts.len()).map(|i| format!("c{i}")).collect();
            let doc: serde_json::Map<String, Json> =
                columns.iter().cloned().zip(texts.iter().cloned().map(Json::String)).collect();
            let mut out = Vec::new();
            header(&columns, &mut out);
            row(&columns, Json::Object(doc).to_string().as_bytes(), &mut out).unwrap();
            let mut reader = ::csv::ReaderBuilder::new().from_reader(out.as_slice());
            let head: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            prop_assert_eq!(head, columns);
            let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            prop_assert_eq!(rows.len(), 1);
            let fields: Vec<&str> = rows[0].iter().collect();
            prop_assert_eq!(fields, texts.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
