//! Opaque cursor tokens: signed, versioned, bound to one query.
//!
//! A token is the base64url text (no padding) of
//!
//! ```text
//! version (1 byte = 1) | kind (1 byte) | fingerprint (8 bytes) | key | [until] | [snapshot] | tag (16 bytes)
//! ```
//!
//! where `kind` is after, before, end or (bounded only) start, with its high bit set when the
//! walk is bounded: then `until`, the last key of the walk (a partition's end, see
//! [`Cursor::until`]), follows the key; and with its next bit set when the walk reads a
//! snapshot: then the snapshot follows (its generation and time, 8 bytes each, and the total
//! its first page counted: a byte, 0 for none, 1 exact, 2 capped, then 8 bytes of count). A key is a value count and the tagged values, the
//! fingerprint is a hash of the query (collection, filter, sort) the token was issued for and,
//! on private collections, of the principal it was issued to (see [`Fingerprint::for_reader`]),
//! and
//! `tag` is HMAC-SHA256 under the server's secret over everything before it, truncated to 128
//! bits. The server keeps no cursor state: any process with the same secret accepts the token.
//! The page size is deliberately not part of the token, so clients may change it between pages.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::filter::Filter;
use crate::page::{Key, Position};
use crate::schema::CollectionSchema;
use crate::sort::Sort;
use crate::value::Value;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const FINGERPRINT_LEN: usize = 8;
/// Longer tokens are rejected before decoding, so hostile input cannot make us allocate much.
pub const MAX_TOKEN_LEN: usize = 4096;

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// The token is not one this server could have issued: bad encoding, truncated, unknown
    /// version, or a signature that does not verify (altered or forged).
    #[error("{0}")]
    Invalid(&'static str),
    /// The token is genuine but was issued for a different collection, filter, sort or
    /// principal.
    #[error("the cursor was issued for a different collection, filter, sort or caller")]
    QueryMismatch,
}

/// What a cursor token holds: where the page starts and, for a partition's walk, the key
/// of the last record the walk may reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Where the page starts: after, before or at the end of a key (or, bounded, the start).
    pub position: Position,
    /// For the walk of a part of the result, the key of its last record (inclusive): pages
    /// stop there, and every cursor of the walk carries it; an empty key for the last part,
    /// which runs to the result's end. `None` for a walk of the whole result.
    pub until: Option<Key>,
    /// The moment a snapshot walk reads (its first page's), and the total that page
    /// counted; `None` for a walk of the present.
    pub snapshot: Option<Snapshot>,
}

/// The moment a snapshot walk reads the collection at, as its cursors carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// The collection's generation at the walk's first page.
    pub generation: i64,
    /// When that generation was written, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The total the first page counted: the count, and whether it is exact (else capped:
    /// "at least"); `None` when it counted none.
    pub total: Option<(u64, bool)>,
}

impl From<Position> for Cursor {
    /// An unbounded cursor at `position`, of a walk of the present.
    fn from(position: Position) -> Cursor {
        Cursor {
            position,
            until: None,
            snapshot: None,
        }
    }
}

/// The high bit of the kind byte: an `until` key follows the key.
const BOUNDED: u8 = 0x80;
/// The next bit of the kind byte: a snapshot follows the keys.
const SNAPSHOT: u8 = 0x40;

/// A hash of what a cursor is bound to: collection, filter, sort and, when the reader is a
/// named principal, that principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; FINGERPRINT_LEN]);

impl Fingerprint {
    /// The fingerprint of a query read anonymously (what every public collection uses).
    pub fn of(schema: &CollectionSchema, filter: &Filter, sort: &Sort) -> Fingerprint {
        Fingerprint::for_reader(schema, filter, sort, None)
    }

    /// The fingerprint of a query read by `reader`: `None` for anonymous reads (the same
    /// fingerprint as [`Fingerprint::of`], so cursors of public collections stay valid
    /// whoever presents them), or the name of the principal a private collection is read as,
    /// so that a cursor issued to one principal does not match the same query of another.
    ///
    /// The parts are hashed with their lengths, and a named reader adds a fourth part, so no
    /// name (not even the empty one) gives the anonymous fingerprint.
    pub fn for_reader(schema: &CollectionSchema, filter: &Filter, sort: &Sort, reader: Option<&str>) -> Fingerprint {
        let mut h = Sha256::new();
        let (canonical, spec) = (filter.canonical(), sort.to_spec(schema));
        let parts = [Some(schema.name.as_str()), Some(&canonical), Some(&spec), reader];
        for part in parts.into_iter().flatten() {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        let mut out = [0; FINGERPRINT_LEN];
        out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
        Fingerprint(out)
    }
}

/// Signs cursor tokens under one secret and verifies them under it or under older ones (a
/// key set, so that a secret can be rotated without breaking the cursors clients hold).
#[derive(Clone)]
pub struct CursorCodec {
    /// The key that signs, then the older keys that still verify.
    macs: Vec<Hmac<Sha256>>,
    /// [`CursorCodec::keys_id`], made once with the keys.
    keys_id: [u8; 8],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec { .. }") // never print the key
    }
}

impl CursorCodec {
    /// A codec keyed with `secret` (any length; HMAC hashes long keys).
    pub fn new(secret: &[u8]) -> CursorCodec {
        CursorCodec::with_older(secret, &[])
    }

    /// A codec that signs with `secret` and also accepts tokens signed with any of `older`
    /// (keys being rotated out).
    pub fn with_older(secret: &[u8], older: &[&[u8]]) -> CursorCodec {
        let mac = |key: &[u8]| Hmac::new_from_slice(key).expect("HMAC accepts keys of any length");
        let macs: Vec<Hmac<Sha256>> = std::iter::once(secret).chain(older.iter().copied()).map(mac).collect();
        // A digest of each key's tag of a fixed label, in order: names the keys, reveals none.
        let mut digest = Sha256::new();
        for mac in &macs {
            digest.update(mac.clone().chain_update(b"folio key set id").finalize().into_bytes());
        }
        let mut keys_id = [0u8; 8];
        keys_id.copy_from_slice(&digest.finalize()[..8]);
        CursorCodec { macs, keys_id }
    }

    /// How many keys verify tokens (the signing one included).
    pub fn keys(&self) -> usize {
        self.macs.len()
    }

    /// Names the key set (the key that signs, then those that verify, in that order) without
    /// revealing a key (a digest of an HMAC of a fixed label under each): pages hold cursors signed by the first, and
    /// a cursor in a request is accepted or refused by all of them, so validators of cached
    /// pages change with it.
    pub fn keys_id(&self) -> [u8; 8] {
        self.keys_id
    }

    /// Encodes a keyset position (after, before or end) for the query with fingerprint `fp`.
    ///
    /// # Panics
    /// On [`Position::Start`] and [`Position::Offset`], which are not cursor positions.
    pub fn encode(&self, fp: Fingerprint, position: &Position) -> String {
        self.encode_until(fp, position, None)
    }

    /// Encodes a cursor of a walk that ends at the record with key `until` (a partition), or
    /// of an unbounded walk when `until` is `None`; a bounded cursor may also be the start.
    ///
    /// # Panics
    /// On [`Position::Offset`], and on [`Position::Start`] without `until`.
    pub fn encode_until(&self, fp: Fingerprint, position: &Position, until: Option<&[Value]>) -> String {
        self.encode_walk(fp, position, until, None)
    }

    /// Encodes a cursor as [`CursorCodec::encode_until`] does, of a walk that reads
    /// `snapshot` when given.
    ///
    /// # Panics
    /// As [`CursorCodec::encode_until`].
    pub fn encode_walk(
        &self,
        fp: Fingerprint,
        position: &Position,
        until: Option<&[Value]>,
        snapshot: Option<&Snapshot>,
    ) -> String {
        let (kind, key): (u8, &[Value]) = match position {
            Position::After(k) => (0, k),
            Position::Before(k) => (1, k),
            Position::End => (2, &[]),
            Position::Start if until.is_some() => (3, &[]),
            Position::Start | Position::Offset(_) => panic!("only keyset positions become cursors"),
        };
        let kind = if until.is_some() { kind | BOUNDED } else { kind };
        let kind = if snapshot.is_some() { kind | SNAPSHOT } else { kind };
        let mut buf = vec![VERSION, kind];
        buf.extend_from_slice(&fp.0);
        encode_key(&mut buf, key);
        if let Some(until) = until {
            encode_key(&mut buf, until);
        }
        if let Some(s) = snapshot {
            buf.extend_from_slice(&s.generation.to_be_bytes());
            buf.extend_from_slice(&s.at_ms.to_be_bytes());
            match s.total {
                None => buf.push(0),
                Some((count, exact)) => {
                    buf.push(if exact { 1 } else { 2 });
                    buf.extend_from_slice(&count.to_be_bytes());
                }
            }
        }
        let tag = self.tag(&buf);
        buf.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// Decodes and verifies a token for the query with fingerprint `fp` and sort `sort`,
    /// returning the position it names and the end of its walk, if bounded.
    pub fn decode(&self, token: &str, fp: Fingerprint, sort: &Sort) -> Result<Cursor, CursorError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(CursorError::Invalid("the cursor is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| CursorError::Invalid("the cursor is not base64url text"))?;
        if bytes.len() < 2 + FINGERPRINT_LEN + 1 + TAG_LEN {
            return Err(CursorError::Invalid("the cursor is truncated"));
        }
        if bytes[0] != VERSION {
            return Err(CursorError::Invalid("the cursor has an unknown version"));
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        // Constant-time comparison of the truncated tag, under each key in turn.
        let verifies = |mac: &Hmac<Sha256>| {
            let mut mac = mac.clone();
            mac.update(body);
            mac.verify_truncated_left(tag).is_ok()
        };
        if !self.macs.iter().any(verifies) {
            return Err(CursorError::Invalid(
                "the cursor's signature does not verify (altered, truncated, forged, or signed with a retired key)",
            ));
        }
        if body[2..2 + FINGERPRINT_LEN] != fp.0 {
            return Err(CursorError::QueryMismatch);
        }
        let (kind, bounded, snapshot) = (
            body[1] & !(BOUNDED | SNAPSHOT),
            body[1] & BOUNDED != 0,
            body[1] & SNAPSHOT != 0,
        );
        let mut rest = &body[2 + FINGERPRINT_LEN..];
        let key = decode_key(&mut rest)?;
        let until = if bounded { Some(decode_key(&mut rest)?) } else { None };
        let snapshot = if snapshot {
            Some(decode_snapshot(&mut rest)?)
        } else {
            None
        };
        if !rest.is_empty() {
            return Err(CursorError::Invalid("the cursor has trailing bytes"));
        }
        // A genuine token for this fingerprint has the right shape; checking anyway means a
        // fingerprint collision can never reach a store with a malformed key.
        check_key(&key, sort)?;
        if let Some(until) = &until
            && !until.is_empty()
            && check_key(until, sort).is_err()
        {
            return Err(CursorError::Invalid("the cursor's end key does not fit this sort"));
        }
        let position = match (kind, key.is_empty()) {
            (0, false) => Position::After(key),
            (1, false) => Position::Before(key),
            (2, true) => Position::End,
            (3, true) if bounded => Position::Start,
            _ => return Err(CursorError::Invalid("the cursor has an unknown kind")),
        };
        Ok(Cursor {
            position,
            until,
            snapshot,
        })
    }

    /// The tag of `body` under the signing key.
    fn tag(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.macs[0].clone();
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

/// Appends a key: its value count, then each value tagged with its type.
fn encode_key(buf: &mut Vec<u8>, key: &[Value]) {
    buf.push(u8::try_from(key.len()).expect("sorts have at most a few fields"));
    for v in key {
        match v {
            Value::Null => buf.push(0),
            Value::Int(i) => {
                buf.push(1);
                buf.extend_from_slice(&i.to_be_bytes());
            }
            Value::Float(f) => {
                buf.push(2);
                buf.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Value::Text(t) => {
                buf.push(3);
                buf.extend_from_slice(&(t.len() as u32).to_be_bytes());
                buf.extend_from_slice(t.as_bytes());
            }
        }
    }
}

/// Reads a snapshot written by [`CursorCodec::encode_walk`] off the front of `rest`.
fn decode_snapshot(rest: &mut &[u8]) -> Result<Snapshot, CursorError> {
    let malformed = CursorError::Invalid("the cursor's snapshot is malformed");
    let mut number = || -> Result<[u8; 8], CursorError> {
        let (head, tail) = rest.split_at_checked(8).ok_or(malformed.clone())?;
        *rest = tail;
        head.try_into().map_err(|_| malformed.clone())
    };
    let generation = i64::from_be_bytes(number()?);
    let at_ms = i64::from_be_bytes(number()?);
    let (&kind, tail) = rest.split_first().ok_or(malformed.clone())?;
    *rest = tail;
    let total = match kind {
        0 => None,
        1 | 2 => {
            let (head, tail) = rest.split_at_checked(8).ok_or(malformed.clone())?;
            *rest = tail;
            let count = u64::from_be_bytes(head.try_into().map_err(|_| malformed.clone())?);
            Some((count, kind == 1))
        }
        _ => return Err(malformed),
    };
    Ok(Snapshot {
        generation,
        at_ms,
        total,
    })
}

/// Reads a key written by [`encode_key`] off the front of `rest`.
fn decode_key<'a>(rest: &mut &'a [u8]) -> Result<Key, CursorError> {
    let malformed = CursorError::Invalid("the cursor's key is malformed");
    let mut take = |n: usize| -> Result<&'a [u8], CursorError> {
        let all: &'a [u8] = rest;
        if all.len() < n {
            return Err(malformed.clone());
        }
        let (head, tail) = all.split_at(n);
        *rest = tail;
        Ok(head)
    };
    let count = take(1)?[0];
    let mut key = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let value = match take(1)?[0] {
            0 => Value::Null,
            1 => Value::Int(i64::from_be_bytes(take(8)?.try_into().expect("8 bytes"))),
            2 => {
                let float = f64::from_bits(u64::from_be_bytes(take(8)?.try_into().expect("8 bytes")));
                // `Value::Float` is finite: stores would bind NaN as NULL, or sort it past
                // every number.
                if !float.is_finite() {
                    return Err(malformed);
                }
                Value::Float(float)
            }
            3 => {
                let len = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
                let text = std::str::from_utf8(take(len)?).map_err(|_| malformed.clone())?;
                Value::Text(text.to_owned())
            }
            _ => return Err(malformed),
        };
        key.push(value);
    }
    Ok(key)
}

fn check_key(key: &[Value], sort: &Sort) -> Result<(), CursorError> {
    // Only the shape is checked: values are always bound as parameters, and stores whose
    // columns are dynamically typed (SQLite files folio serves as they are) may hold any
    // scalar type in a column.
    let shape_ok =
        key.is_empty() || (key.len() == sort.fields().len() && key.last().is_some_and(|id| *id != Value::Null));
    if shape_ok {
        Ok(())
    } else {
        Err(CursorError::Invalid("the cursor's key does not fit this sort"))
    }
}

#[cfg(test)]
mod tests;
