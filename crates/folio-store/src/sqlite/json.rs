//! Writing the values of SQLite rows as JSON, straight into a page's buffer.
//!
//! A file served as it is (`--sqlite`) has no stored documents: every record is written from
//! its row. Building a `serde_json::Map` of `Value`s per row and a `String` from it was
//! a handful of allocations per column; these functions write each value's text in place
//! instead, byte for byte as serde_json writes the same value (its own number and string
//! writers are used for that), so documents are unchanged.

use std::io;

use rusqlite::types::ValueRef;

/// `"name":`, escaped as serde_json escapes a key: written once per collection, copied into
/// every record.
pub(crate) fn member_prefix(name: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 3);
    // Writing a string into a vector cannot fail.
    let _ = serde_json::to_writer(&mut prefix, name);
    prefix.push(b':');
    prefix
}

/// How the values of a column are written, decided from a sample of them when the file is
/// opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// As they are stored.
    Plain,
    /// Text as the JSON it holds (a column of JSON arrays or objects).
    Json,
    /// 0 and 1 as `false` and `true` (a column declared `BOOLEAN` that holds only those).
    Boolean,
}

/// Writes a column value as JSON: NULL as `null`, numbers as serde_json writes them
/// (non-finite reals as `null`), text as a JSON string (bytes that are not UTF-8 replaced),
/// blobs as a string of lowercase hex; the text of a column that holds JSON ([`Form::Json`])
/// as the JSON it is, and as a string if it is not JSON after all; 0 and 1 of a boolean
/// column ([`Form::Boolean`]) as `false` and `true`, and any other value of it as it is.
#[inline]
pub(crate) fn write_value(out: &mut Vec<u8>, value: ValueRef<'_>, form: Form) -> io::Result<()> {
    match value {
        ValueRef::Null => out.extend_from_slice(b"null"),
        // The same rule as `folio import` of a SQLite table (`input.rs`), so that a file
        // served and the same table imported give the same records.
        ValueRef::Integer(0) if form == Form::Boolean => out.extend_from_slice(b"false"),
        ValueRef::Integer(1) if form == Form::Boolean => out.extend_from_slice(b"true"),
        // serde_json writes integers with itoa: digits and a leading `-`.
        ValueRef::Integer(i) => serde_json::to_writer(&mut *out, &i)?,
        // serde_json writes non-finite floats as `null`, as its `Number` would be.
        ValueRef::Real(f) => serde_json::to_writer(&mut *out, &f)?,
        ValueRef::Text(t) if form == Form::Json => write_json_text(out, t)?,
        ValueRef::Text(t) => write_string(out, t)?,
        ValueRef::Blob(b) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.reserve(b.len() * 2 + 2);
            out.push(b'"');
            for byte in b {
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
            out.push(b'"');
        }
    }
    Ok(())
}

/// Text as a JSON string.
#[inline]
fn write_string(out: &mut Vec<u8>, t: &[u8]) -> io::Result<()> {
    // Most text is ASCII with nothing to escape: serde_json writes it between quotes as it
    // is, and so it is copied, without the byte-by-byte escaping loop.
    if plain_ascii(t) {
        out.reserve(t.len() + 2);
        out.push(b'"');
        out.extend_from_slice(t);
        out.push(b'"');
        return Ok(());
    }
    // `from_utf8` checks valid text (nearly all) faster than `from_utf8_lossy`, which is
    // only needed to replace what is not UTF-8.
    match std::str::from_utf8(t) {
        Ok(text) => serde_json::to_writer(out, text)?,
        Err(_) => serde_json::to_writer(out, String::from_utf8_lossy(t).as_ref())?,
    }
    Ok(())
}

/// Whether `t` is ASCII without control characters, quotes or backslashes: checked eight
/// bytes at a time, as one `u64` (most values are a few dozen bytes, too short for the
/// vectorised loop of a byte-wise check to pay for its set-up).
#[inline]
fn plain_ascii(t: &[u8]) -> bool {
    let word = |eight: &[u8]| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(eight);
        u64::from_ne_bytes(bytes)
    };
    if t.len() < 8 {
        // Padded with a plain byte.
        let mut bytes = [b'a'; 8];
        bytes[..t.len()].copy_from_slice(t);
        return !special_in(u64::from_ne_bytes(bytes));
    }
    let mut chunks = t.chunks_exact(8);
    if chunks.any(|chunk| special_in(word(chunk))) {
        return false;
    }
    // The rest, as the last eight bytes (some checked twice): no copy of a length unknown
    // to the compiler.
    chunks.remainder().is_empty() || !special_in(word(&t[t.len() - 8..]))
}

/// Whether one of the eight bytes of `v` is below 0x20, `"`, `\\` or 0x80 and above.
#[inline]
fn special_in(v: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Bytes below `n` (at most 0x80) among bytes below 0x80: the subtraction borrows in the
    // lowest such byte first, so whether there is one is exact (the classic `hasless`).
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGHS;
    let equal = |v: u64, b: u8| below(v ^ (ONES * u64::from(b)), 1);
    ((v & HIGHS) | below(v, 0x20) | equal(v, b'"') | equal(v, b'\\')) != 0
}

/// The text of a JSON column: copied as it is when it is already what serde_json would write
/// for it (compact, as a file written by a JSON library usually holds), else parsed and
/// written again (as serde_json rewrites it: spaces dropped, numbers and escapes normalised,
/// repeated keys merged), else, when it is not JSON, as a string.
fn write_json_text(out: &mut Vec<u8>, t: &[u8]) -> io::Result<()> {
    if canonical(t) {
        out.extend_from_slice(t);
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(t) {
        Ok(value) => serde_json::to_writer(out, &value)?,
        Err(_) => write_string(out, t)?,
    }
    Ok(())
}

/// Deeper texts are left to serde_json, whose parser stops at a depth of 128.
const MAX_DEPTH: usize = 100;

/// Whether `t` is JSON that serde_json parses and writes back to exactly these bytes: no
/// whitespace, strings without escapes (so what they hold is what they are), integers that
/// serde_json keeps as integers and writes as they are (no `-0`, no fraction or exponent,
/// which it would rewrite), no key twice in one object (serde_json keeps the last), and
/// valid UTF-8. Anything else answers `false`, and is rewritten by serde_json itself.
pub(crate) fn canonical(t: &[u8]) -> bool {
    if plain_string_array(t) {
        return true;
    }
    // ASCII (nearly all) is checked a word at a time, faster than `from_utf8` does it.
    if !t.is_ascii() && std::str::from_utf8(t).is_err() {
        return false;
    }
    let mut scan = Scan { t, at: 0 };
    scan.value(0) && scan.at == t.len()
}

/// Whether `t` is an array of strings of plain ASCII (no escapes, no control characters),
/// written compactly: the commonest JSON column (a list of names, tags or elements), checked
/// in one pass where [`Scan`] costs several calls a string. It is canonical; `false` says
/// only that the full check must decide.
fn plain_string_array(t: &[u8]) -> bool {
    let [b'[', inner @ .., b']'] = t else {
        return false;
    };
    if inner.is_empty() {
        return true;
    }
    let mut rest = inner;
    loop {
        let [b'"', after @ ..] = rest else {
            return false;
        };
        let Some(end) = after.iter().position(|&b| b == b'"') else {
            return false;
        };
        if !after[..end].iter().all(|&b| (0x20..0x80).contains(&b) && b != b'\\') {
            return false;
        }
        match &after[end + 1..] {
            [] => return true,
            [b',', next @ ..] => rest = next,
            _ => return false,
        }
    }
}

struct Scan<'a> {
    /// The text, borrowed apart from the scanner so that keys outlive each step.
    t: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.t.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.t[self.at..].starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    fn value(&mut self, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    fn object(&mut self, depth: usize) -> bool {
        self.at += 1;
        if self.eat(b'}') {
            return true;
        }
        let mut keys: Vec<&'a [u8]> = Vec::new();
        loop {
            let Some(key) = self.string() else {
                return false;
            };
            if keys.contains(&key) {
                return false;
            }
            keys.push(key);
            if !self.eat(b':') || !self.value(depth + 1) {
                return false;
            }
            if self.eat(b'}') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    fn array(&mut self, depth: usize) -> bool {
        self.at += 1;
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth + 1) {
                return false;
            }
            if self.eat(b']') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    /// A string without escapes or control characters: its contents.
    fn string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let t: &'a [u8] = self.t;
        let start = self.at;
        let end = start + t[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if t[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        Some(&t[start..end])
    }

    /// An integer serde_json reads as one (`u64`, or a negative `i64`) and writes back alike.
    fn integer(&mut self) -> bool {
        let negative = self.eat(b'-');
        let start = self.at;
        let digits = self.t[start..].iter().take_while(|b| b.is_ascii_digit()).count();
        self.at += digits;
        if digits == 0 || (digits > 1 && self.t[start] == b'0') {
            return false;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return false;
        }
        let Some(n) = std::str::from_utf8(&self.t[start..self.at])
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
        else {
            return false;
        };
        // `-0` becomes `-0.0`; below `i64::MIN` a float.
        !negative || (n != 0 && n <= 1 << 63)
    }
}

#[cfg(test)]
mod tests;
