use base64::Engine as _;
use proptest::prelude::*;

use super::*;
use crate::schema::{FieldType, IdType, IndexedPath};

fn schema() -> CollectionSchema {
    CollectionSchema {
        name: "entries".into(),
        id_path: "entry_id".into(),
        id_type: IdType::String,
        indexed: vec![
            IndexedPath::new("t", FieldType::Timestamp),
            IndexedPath::new("g", FieldType::Float),
            IndexedPath::new("p", FieldType::String),
        ],
    }
}

fn setup(sort: &str) -> (Sort, Fingerprint) {
    let schema = schema();
    let sort = Sort::parse(sort, &schema, "sort").unwrap();
    let fp = Fingerprint::of(&schema, &Filter::all(), &sort);
    (sort, fp)
}

fn opt_null(v: Value, null: bool) -> Value {
    if null { Value::Null } else { v }
}

proptest! {
    /// Encoding then decoding is the identity, for every kind of key value.
    #[test]
    fn round_trip(t in any::<i64>(), g in -1e300f64..1e300, p in ".{0,40}", id in "[A-Za-z0-9_-]{1,28}",
                  nulls in any::<(bool, bool, bool)>(), before in any::<bool>()) {
        let (sort, fp) = setup("-t,g,p");
        let codec = CursorCodec::new(b"secret");
        let key = vec![opt_null(Value::Int(t), nulls.0), opt_null(Value::Float(g), nulls.1),
                       opt_null(Value::Text(p), nulls.2), Value::Text(id)];
        let position = if before { Position::Before(key) } else { Position::After(key) };
        let token = codec.encode(fp, &position);
        prop_assert_eq!(codec.decode(&token, fp, &sort), Ok(position.into()));
    }

    /// A partition's cursor keeps its end through a round trip, from any position; its start
    /// is a cursor too.
    #[test]
    fn bounded_round_trip(t in any::<i64>(), u in any::<i64>(), id in "[a-z]{1,8}", end in "[a-z]{1,8}",
                          kind in 0u8..4) {
        let (sort, fp) = setup("-t");
        let codec = CursorCodec::new(b"secret");
        let key = vec![Value::Int(t), Value::Text(id)];
        let until = vec![Value::Int(u), Value::Text(end)];
        let position = match kind {
            0 => Position::After(key),
            1 => Position::Before(key),
            2 => Position::End,
            _ => Position::Start,
        };
        let token = codec.encode_until(fp, &position, Some(&until));
        prop_assert_eq!(codec.decode(&token, fp, &sort), Ok(Cursor { position, until: Some(until), snapshot: None }));
    }

    /// No change of a single byte of a token gets past verification.
    #[test]
    fn any_altered_byte_is_rejected(index in any::<proptest::sample::Index>(), flip in 1u8..=255) {
        let (sort, fp) = setup("p");
        let codec = CursorCodec::new(b"secret");
        let token = codec.encode(fp, &Position::After(vec![Value::Text("x".into()), Value::Text("id".into())]));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let altered = URL_SAFE_NO_PAD.encode(bytes);
        prop_assert!(matches!(codec.decode(&altered, fp, &sort), Err(CursorError::Invalid(_))));
    }

    /// Arbitrary text never panics the decoder.
    #[test]
    fn garbage_is_an_error(token in ".{0,200}") {
        let (sort, fp) = setup("p");
        prop_assert!(CursorCodec::new(b"secret").decode(&token, fp, &sort).is_err());
    }
}

#[test]
fn truncated_token_is_invalid() {
    let (sort, fp) = setup("p");
    let codec = CursorCodec::new(b"secret");
    let token = codec.encode(
        fp,
        &Position::After(vec![Value::Text("x".into()), Value::Text("id".into())]),
    );
    for cut in [1, 5, token.len() / 2] {
        let r = codec.decode(&token[..token.len() - cut], fp, &sort);
        assert!(matches!(r, Err(CursorError::Invalid(_))), "cut {cut}: {r:?}");
    }
}

#[test]
fn other_secret_is_invalid() {
    let (sort, fp) = setup("p");
    let token = CursorCodec::new(b"one").encode(fp, &Position::End);
    let r = CursorCodec::new(b"two").decode(&token, fp, &sort);
    assert!(matches!(r, Err(CursorError::Invalid(_))), "{r:?}");
}

#[test]
fn other_sort_or_filter_is_a_mismatch() {
    let (sort, fp) = setup("p");
    let codec = CursorCodec::new(b"secret");
    let token = codec.encode(
        fp,
        &Position::After(vec![Value::Text("x".into()), Value::Text("id".into())]),
    );
    let schema = schema();
    let other_sort = Sort::parse("-p", &schema, "sort").unwrap();
    let fp2 = Fingerprint::of(&schema, &Filter::all(), &other_sort);
    assert_eq!(codec.decode(&token, fp2, &other_sort), Err(CursorError::QueryMismatch));

    let mut filter = Filter::all();
    filter.push_text(&schema, "p", "eq", "x", "filter[p]").unwrap();
    let fp3 = Fingerprint::of(&schema, &filter, &sort);
    assert_eq!(codec.decode(&token, fp3, &sort), Err(CursorError::QueryMismatch));
}

/// Found by fuzzing (`cursor_decode`): a signed token whose key held a NaN or infinite float
/// decoded into a `Value::Float` that is not finite, which every value promises to be.
#[test]
fn non_finite_floats_are_malformed() {
    let (sort, fp) = setup("-g");
    let codec = CursorCodec::new(b"secret");
    for float in [f64::from_bits(u64::MAX), f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut body = vec![VERSION, 1];
        body.extend_from_slice(&fp.0);
        body.extend_from_slice(&[2, 2]);
        body.extend_from_slice(&float.to_bits().to_be_bytes());
        body.extend_from_slice(&[3, 0, 0, 0, 2, b'i', b'd']);
        let tag = codec.tag(&body);
        body.extend_from_slice(&tag[..TAG_LEN]);
        let token = URL_SAFE_NO_PAD.encode(body);
        assert_eq!(
            codec.decode(&token, fp, &sort),
            Err(CursorError::Invalid("the cursor's key is malformed")),
            "{float}"
        );
    }
    // The same token with a finite float is genuine, so only the float is at fault.
    let finite = Position::Before(vec![Value::Float(2.5), Value::Text("id".into())]);
    let token = codec.encode(fp, &finite);
    assert_eq!(codec.decode(&token, fp, &sort), Ok(finite.into()));
}

#[test]
fn a_cursor_is_bound_to_its_reader() {
    let (sort, anonymous) = setup("p");
    let schema = schema();
    let reader = |name| Fingerprint::for_reader(&schema, &Filter::all(), &sort, name);
    assert_eq!(reader(None), anonymous, "anonymous reads keep the fingerprint of `of`");
    let codec = CursorCodec::new(b"secret");
    let position = Position::After(vec![Value::Text("x".into()), Value::Text("id".into())]);
    let token = codec.encode(reader(Some("alice")), &position);
    assert_eq!(codec.decode(&token, reader(Some("alice")), &sort), Ok(position.into()));
    for other in [None, Some("bob"), Some(""), Some("alice "), Some("Alice")] {
        assert_eq!(
            codec.decode(&token, reader(other), &sort),
            Err(CursorError::QueryMismatch),
            "{other:?}"
        );
    }
    // An anonymous token does not match a named reader either, not even the empty name.
    let public = codec.encode(anonymous, &Position::End);
    assert_eq!(
        codec.decode(&public, reader(Some("")), &sort),
        Err(CursorError::QueryMismatch)
    );
}

#[test]
fn a_start_cursor_needs_an_end_and_an_end_must_fit_the_sort() {
    let (sort, fp) = setup("p");
    let codec = CursorCodec::new(b"secret");
    let signed = |kind: u8, tail: &[u8]| {
        let mut body = vec![VERSION, kind];
        body.extend_from_slice(&fp.0);
        body.extend_from_slice(tail);
        let tag = codec.tag(&body);
        body.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(body)
    };
    // An unbounded start (kind 3 without the bounded bit): not a cursor.
    assert_eq!(
        codec.decode(&signed(3, &[0]), fp, &sort),
        Err(CursorError::Invalid("the cursor has an unknown kind"))
    );
    // A bounded start whose end has the wrong number of values.
    assert_eq!(
        codec.decode(&signed(3 | BOUNDED, &[0, 1, 0]), fp, &sort),
        Err(CursorError::Invalid("the cursor's end key does not fit this sort"))
    );
    // An empty end: the last part, to the result's end.
    assert_eq!(
        codec.decode(&signed(3 | BOUNDED, &[0, 0]), fp, &sort),
        Ok(Cursor {
            position: Position::Start,
            until: Some(Vec::new()),
            snapshot: None,
        })
    );
    // A bounded cursor without its end.
    assert!(codec.decode(&signed(3 | BOUNDED, &[0]), fp, &sort).is_err());
}

#[test]
fn older_keys_verify_until_they_are_retired() {
    let (sort, fp) = setup("p");
    let position = Position::After(vec![Value::Text("x".into()), Value::Text("id".into())]);
    let old = CursorCodec::new(b"the old secret, 16+ bytes");
    let rotated = CursorCodec::with_older(b"the new secret, 16+ bytes", &[b"the old secret, 16+ bytes"]);
    let retired = CursorCodec::new(b"the new secret, 16+ bytes");
    let before = old.encode(fp, &position);
    let after = rotated.encode(fp, &position);
    assert_ne!(before, after, "new cursors are signed with the new key");
    assert_eq!(rotated.decode(&before, fp, &sort), Ok(position.clone().into()));
    assert_eq!(retired.decode(&after, fp, &sort), Ok(position.clone().into()));
    assert!(matches!(
        retired.decode(&before, fp, &sort),
        Err(CursorError::Invalid(_))
    ));
    assert!(matches!(old.decode(&after, fp, &sort), Err(CursorError::Invalid(_))));
    assert_eq!((rotated.keys(), retired.keys()), (2, 1));
}

#[test]
fn snapshots_ride_in_cursors_bounded_or_not() {
    let (sort, fp) = setup("p");
    let codec = CursorCodec::new(b"a secret of 16+ bytes");
    let key = vec![Value::Text("x".into()), Value::Text("id".into())];
    for total in [None, Some((0, true)), Some((u64::MAX, false)), Some((17, true))] {
        let snapshot = Snapshot {
            generation: i64::MAX - 3,
            at_ms: 1_764_000_000_123,
            total,
        };
        for until in [None, Some(vec![]), Some(key.clone())] {
            for position in [
                Position::After(key.clone()),
                Position::Before(key.clone()),
                Position::End,
            ] {
                let token = codec.encode_walk(fp, &position, until.as_deref(), Some(&snapshot));
                let cursor = codec.decode(&token, fp, &sort).unwrap();
                assert_eq!(cursor.position, position);
                assert_eq!(cursor.until, until);
                assert_eq!(cursor.snapshot, Some(snapshot));
                // A walk of the present carries none.
                let present = codec.encode_walk(fp, &position, until.as_deref(), None);
                assert_eq!(codec.decode(&present, fp, &sort).unwrap().snapshot, None);
            }
        }
    }
}

#[test]
fn the_key_set_id_changes_with_every_rotation_and_retirement() {
    let (old, new): (&[u8], &[u8]) = (b"the old secret, 16+ bytes", b"the new secret, 16+ bytes");
    let ids = [
        CursorCodec::new(old).keys_id(),
        CursorCodec::with_older(new, &[old]).keys_id(),
        CursorCodec::new(new).keys_id(),
        CursorCodec::with_older(old, &[new]).keys_id(),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_eq!(CursorCodec::new(old).keys_id(), ids[0], "the same keys, the same id");
}
