use std::collections::HashSet;

use super::*;

#[test]
fn deterministic_and_shaped_as_documented() {
    let a: Vec<_> = entries(3000).collect();
    let b: Vec<_> = entries(3000).collect();
    assert_eq!(a, b, "the same size gives the same records");
    // A larger demo starts with the records of a smaller one.
    assert_eq!(a[..100], entries(100).collect::<Vec<_>>()[..]);

    let ids: HashSet<_> = a.iter().map(|e| e["entry_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), a.len(), "entry ids are unique");
    let url_safe = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let mut nulls = 0;
    let mut ti_o = 0;
    let mut times = HashSet::new();
    for e in &a {
        let id = e["entry_id"].as_str().unwrap();
        assert!(id.len() == 28 && url_safe(id), "{id}");
        let upload = e["upload_id"].as_str().unwrap();
        assert!(upload.len() == 22 && url_safe(upload), "{upload}");
        let t = e["upload_create_time"].as_str().unwrap();
        assert!(folio_engine::Value::parse(t, FieldType::Timestamp).is_ok(), "{t}");
        times.insert(t.to_owned());
        assert!(PROVIDERS.contains(&e["provider"].as_str().unwrap()));
        let m = &e["results"]["material"];
        let elements: Vec<&str> = m["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut sorted = elements.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(elements, sorted, "elements are sorted and distinct");
        assert_eq!(m["n_elements"].as_u64().unwrap() as usize, elements.len());
        assert!(m["chemical_formula_reduced"].as_str().unwrap().starts_with(elements[0]));
        if elements.contains(&"Ti") && elements.contains(&"O") {
            ti_o += 1;
        }
        match &e["results"]["properties"]["electronic"]["band_gap"] {
            serde_json::Value::Null => nulls += 1,
            v => assert!((0.0..=8.0).contains(&v.as_f64().unwrap())),
        }
    }
    let share = |n: usize| n as f64 / a.len() as f64;
    assert!(
        (0.07..0.13).contains(&share(nulls)),
        "about 10% null band gaps: {}",
        share(nulls)
    );
    assert!(
        (0.03..0.07).contains(&share(ti_o)),
        "about 5% Ti and O: {}",
        share(ti_o)
    );
    assert!(
        times.len() < a.len() / 10,
        "upload times repeat: {} distinct",
        times.len()
    );
}

#[test]
fn ids_stay_url_safe_text() {
    assert_eq!(url_safe(&[0xff; 3], 4), "____");
    assert_eq!(url_safe(&[0; 3], 4), "AAAA");
}
