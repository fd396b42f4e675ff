use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};

use super::*;

fn grant(name: &str, token: &str, scope: Scope) -> TokenGrant {
    TokenGrant {
        name: name.into(),
        digest: TokenDigest::of(token),
        scope,
    }
}

fn only(names: &[&str]) -> Scope {
    Scope::Only(names.iter().map(|n| (*n).to_owned()).collect())
}

fn policy() -> Arc<AccessPolicy> {
    let tokens = vec![
        grant("alice", "folio_alice", only(&["entries"])),
        grant("bob", "folio_bob", Scope::All),
        grant("carol", "folio_carol", only(&["vault"])),
    ];
    Arc::new(AccessPolicy::new(["entries".to_owned(), "vault".to_owned()], tokens).unwrap())
}

fn caller(authorization: &[&str]) -> Caller {
    let mut headers = HeaderMap::new();
    for value in authorization {
        headers.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    }
    Caller::new(policy(), &headers)
}

/// The status of reading `collection`, or 200.
#[track_caller]
fn check(authorization: &[&str], collection: &str, expect: u16) {
    let got = match caller(authorization).check(collection) {
        Ok(()) => 200,
        Err(e) => e.status().as_u16(),
    };
    assert_eq!(got, expect, "{authorization:?} reading {collection}");
}

#[test]
fn every_token_is_found_by_its_digest_and_no_other() {
    let policy = policy();
    assert_eq!(policy.authenticate("folio_alice"), Some(0));
    assert_eq!(policy.authenticate("folio_bob"), Some(1));
    assert_eq!(policy.authenticate("folio_carol"), Some(2));
    for wrong in ["", "folio_alic", "folio_alice ", "FOLIO_ALICE", "folio_dave"] {
        assert_eq!(policy.authenticate(wrong), None, "{wrong:?}");
    }
    assert_eq!(AccessPolicy::public().authenticate("folio_alice"), None);
}

#[test]
fn private_collections_need_a_token_that_grants_them() {
    check(&[], "entries", 401);
    check(&["Bearer folio_alice"], "entries", 200);
    check(&["bearer   folio_alice  "], "entries", 200);
    check(&["Bearer folio_bob"], "vault", 200);
    check(&["Bearer folio_carol"], "entries", 404);
    check(&["Bearer folio_alice"], "vault", 404);
    check(&["Bearer folio_nobody"], "entries", 404);
    // No bearer token at all: ask for one.
    check(&["Basic YWxpY2U6c2VjcmV0"], "entries", 401);
    check(&["Bearer"], "entries", 401);
    check(&["Bearer   "], "entries", 401);
    // Two headers are ambiguous: refused like an unknown token, even if one is valid.
    check(&["Bearer folio_alice", "Bearer folio_bob"], "entries", 404);
}

#[test]
fn public_collections_ignore_tokens() {
    for authorization in [&[][..], &["Bearer folio_alice"], &["Bearer garbage"], &["Basic x"]] {
        check(authorization, "notes", 200);
        check(authorization, "absent", 200); // the store answers 404 for it, like any name
        assert_eq!(caller(authorization).reader("notes"), None);
    }
}

#[test]
fn cursors_of_private_collections_name_their_reader() {
    assert_eq!(caller(&["Bearer folio_alice"]).reader("entries"), Some("alice"));
    assert_eq!(caller(&["Bearer folio_bob"]).reader("entries"), Some("bob"));
    assert_eq!(caller(&[]).reader("entries"), None);
}

#[test]
fn a_token_that_is_not_text_is_unknown() {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
    );
    let caller = Caller::new(policy(), &headers);
    assert_eq!(caller.check("entries").unwrap_err().status().as_u16(), 404);
}

#[test]
fn policies_refuse_ambiguous_tokens() {
    let twice = |a: TokenGrant, b: TokenGrant| AccessPolicy::new([], vec![a, b]).unwrap_err();
    assert_eq!(
        twice(grant("a", "t1", Scope::All), grant("a", "t2", Scope::All)),
        AccessError::DuplicateName("a".into())
    );
    assert_eq!(
        twice(grant("a", "t1", Scope::All), grant("b", "t1", Scope::All)),
        AccessError::DuplicateDigest("a".into(), "b".into())
    );
    assert_eq!(
        AccessPolicy::new([], vec![grant("", "t", Scope::All)]).unwrap_err(),
        AccessError::EmptyName
    );
}

#[test]
fn debug_output_shows_no_digest() {
    let text = format!("{:?} {:?}", policy(), caller(&["Bearer folio_alice"]));
    let hex: String = TokenDigest::of("folio_alice")
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!text.contains(&hex[..16]) && !text.contains("folio_alice"), "{text}");
    assert!(text.contains("TokenDigest(..)"), "{text}");
}

#[test]
fn a_replaced_policy_applies_to_later_snapshots_only() {
    let handle = AccessHandle::new(AccessPolicy::public());
    let before = handle.current();
    handle.replace(AccessPolicy::new(["entries".to_owned()], Vec::new()).unwrap());
    assert!(!before.is_private("entries"));
    assert!(handle.current().is_private("entries"));
}
