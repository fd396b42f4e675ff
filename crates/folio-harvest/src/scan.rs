//! Checking a JSON text in one pass, noting where its shallow parts are.
//!
//! A harvested page is mostly its records, and the harvester never parses records: it checks
//! the whole body once (a body that is not whole JSON is retried, never written) and cuts each
//! record out of the text. serde_json checking the body and a second pass splitting the records'
//! array were half of the harvester's time, the two passes reading every byte one at a time.
//! [`scan`] does both in one pass and reads string contents (most of a page) eight bytes at a
//! time.
//!
//! It accepts what serde_json accepts (RFC 8259: no trailing commas, no leading zeros, control
//! characters only escaped), which a property test checks against serde_json on mutated texts,
//! except arrays and objects nested more than [`MAX_DEPTH`] deep: the scan keeps a small record
//! per level, so a body of brackets alone must not make it hold ten times its size.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// How deeply arrays and objects may nest; no API pages records this deep.
pub(crate) const MAX_DEPTH: usize = 10_000;

/// Arrays this shallow have their elements noted: the body itself (depth 0), its members
/// (JSON:API `data`), and their members (HAL `_embedded.items`); objects one level less deep
/// have their members noted, so that paths to those arrays are followed without reading
/// anything again. Records, one level deeper, are never taken apart.
const NOTED_DEPTH: usize = 2;

/// Where the shallow parts of a checked JSON text are.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outline {
    /// The members of every object at depth less than [`NOTED_DEPTH`], by where the object
    /// starts, each with the span of its value; a name given twice keeps the last value, as
    /// serde_json does.
    pub(crate) objects: HashMap<usize, HashMap<String, Range<usize>>>,
    /// The elements of every array at depth [`NOTED_DEPTH`] or less, by the array's span.
    pub(crate) arrays: HashMap<Range<usize>, Vec<Range<usize>>>,
    /// Whether the text has a line break (only whitespace can hold one): if not, no part of
    /// it spans lines.
    pub(crate) multiline: bool,
}

/// Why a text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    what: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.what, self.line, self.column)
    }
}

impl std::error::Error for SyntaxError {}

/// Checks that `text` is one JSON value, with nothing but whitespace around it, and outlines it.
pub(crate) fn scan(text: &str) -> Result<Outline, SyntaxError> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        at: 0,
        stack: Vec::new(),
        noted: Vec::new(),
        outline: Outline::default(),
    };
    scanner.run().map_err(|what| scanner.error(what))?;
    Ok(scanner.outline)
}

/// An array or object being read.
#[derive(Clone, Copy)]
struct Open {
    object: bool,
    start: usize,
}

/// What is noted of an array or object being read at depth [`NOTED_DEPTH`] or less.
#[derive(Default)]
struct Noted {
    /// The elements so far, for an array.
    elements: Option<Vec<Range<usize>>>,
    /// The members so far, for an object whose members are noted.
    members: Option<HashMap<String, Range<usize>>>,
    /// The name of the member being read, in such an object.
    name: Option<String>,
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Every array and object being read, outermost first. Kept small (most are inside
    /// records), with what is noted of the shallow ones in `noted`, one per level.
    stack: Vec<Open>,
    noted: Vec<Noted>,
    outline: Outline,
}

/// Bytes that may stand in a string as they are: not a quote, a backslash or a control
/// character.
const fn plain_table() -> [bool; 256] {
    let mut table = [true; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = false;
        b += 1;
    }
    table[b'"' as usize] = false;
    table[b'\\' as usize] = false;
    table
}
static PLAIN: [bool; 256] = plain_table();

/// What [`Scanner::value`] read.
enum Read {
    /// A whole value.
    Whole,
    /// The opening of an array or object, with a value inside to read next.
    Opened,
}

/// What follows a value once [`Scanner::close`] has closed what it ends.
enum After {
    /// Another value, in an array or object still open.
    Value,
    /// The end of the text.
    End,
}

impl Scanner<'_> {
    /// Reads the text: one value, with nothing but whitespace around it.
    fn run(&mut self) -> Result<(), &'static str> {
        loop {
            self.skip_whitespace();
            let start = self.at;
            if let Read::Opened = self.value(start)? {
                continue;
            }
            // A value ended at `self.at`: close what it ends, up to a value that goes on.
            if let After::End = self.close(start..self.at)? {
                return Ok(());
            }
        }
    }

    /// Reads a value from `start`: a whole one (a string, a number, a literal, an empty array
    /// or object), or the opening of an array or object that holds values, leaving the
    /// scanner at the first.
    fn value(&mut self, start: usize) -> Result<Read, &'static str> {
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                self.skip_whitespace();
                if self.peek() != Some(b'}') {
                    self.open(true, start)?;
                    self.name()?;
                    return Ok(Read::Opened);
                }
                self.at += 1;
                if self.stack.len() < NOTED_DEPTH {
                    self.outline.objects.insert(start, HashMap::new());
                }
            }
            Some(b'[') => {
                self.at += 1;
                self.skip_whitespace();
                if self.peek() != Some(b']') {
                    self.open(false, start)?;
                    return Ok(Read::Opened);
                }
                self.at += 1;
                if self.stack.len() <= NOTED_DEPTH {
                    self.outline.arrays.insert(start..self.at, Vec::new());
                }
            }
            Some(b'"') => self.string()?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            Some(_) => return Err("expected value"),
            None => return Err("EOF while parsing a value"),
        }
        Ok(Read::Whole)
    }

    /// After a value that spans `value`, closes the arrays and objects it ends, up to one
    /// that goes on with another value (leaving the scanner at it) or the end of the text.
    fn close(&mut self, mut value: Range<usize>) -> Result<After, &'static str> {
        loop {
            let Some(&open) = self.stack.last() else {
                self.skip_whitespace();
                return match self.peek() {
                    None => Ok(After::End),
                    Some(_) => Err("trailing characters"),
                };
            };
            if self.stack.len() <= self.noted.len() {
                let noted = self.noted.last_mut().expect("one per shallow level");
                if let Some(elements) = &mut noted.elements {
                    elements.push(value);
                } else if let (Some(members), Some(name)) = (&mut noted.members, noted.name.take()) {
                    members.insert(name, value);
                }
            }
            self.skip_whitespace();
            match (self.peek(), open.object) {
                (Some(b','), object) => {
                    self.at += 1;
                    if object {
                        self.skip_whitespace();
                        self.name()?;
                    }
                    return Ok(After::Value);
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    self.at += 1;
                    self.stack.pop();
                    self.outline_closed(open);
                    value = open.start..self.at;
                }
                (Some(_), true) => return Err("expected `,` or `}`"),
                (Some(_), false) => return Err("expected `,` or `]`"),
                (None, _) => return Err("EOF while parsing a list or an object"),
            }
        }
    }

    /// Outlines an array or object just closed (at `self.at`), if it was noted.
    fn outline_closed(&mut self, open: Open) {
        if self.stack.len() < self.noted.len() {
            let noted = self.noted.pop().expect("one per shallow level");
            if let Some(elements) = noted.elements {
                self.outline.arrays.insert(open.start..self.at, elements);
            }
            if let Some(members) = noted.members {
                self.outline.objects.insert(open.start, members);
            }
        }
    }

    /// Opens an array or an object (`object`) that starts at `start`, noting what is noted of
    /// one this shallow.
    fn open(&mut self, object: bool, start: usize) -> Result<(), &'static str> {
        if self.stack.len() >= MAX_DEPTH {
            self.at = start; // the error points at the bracket
            return Err("arrays and objects nested more than 10,000 deep");
        }
        let depth = self.stack.len();
        self.stack.push(Open { object, start });
        if depth <= NOTED_DEPTH {
            self.noted.push(Noted {
                elements: (!object).then(Vec::new),
                members: (object && depth < NOTED_DEPTH).then(HashMap::new),
                name: None,
            });
        }
        Ok(())
    }

    /// Reads a member's name and its colon, leaving the scanner at the member's value; the
    /// name is kept in objects whose members are noted.
    fn name(&mut self) -> Result<(), &'static str> {
        match self.peek() {
            Some(b'"') => {}
            Some(_) => return Err("key must be a string"),
            None => return Err("EOF while parsing an object"),
        }
        let start = self.at;
        self.string()?;
        if self.stack.len() <= self.noted.len() && self.noted.last().is_some_and(|n| n.members.is_some()) {
            let raw = &self.bytes[start + 1..self.at - 1];
            let name = match std::str::from_utf8(raw) {
                Ok(name) if !raw.contains(&b'\\') => name.to_owned(),
                // Escaped names are rare: serde_json reads them.
                _ => std::str::from_utf8(&self.bytes[start..self.at])
                    .ok()
                    .and_then(|quoted| serde_json::from_str(quoted).ok())
                    .ok_or("invalid escape")?,
            };
            if let Some(noted) = self.noted.last_mut() {
                noted.name = Some(name);
            }
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b':') => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err("expected `:`"),
            None => Err("EOF while parsing an object"),
        }
    }

    /// A string, from its opening quote.
    #[inline]
    fn string(&mut self) -> Result<(), &'static str> {
        self.at = string_end(self.bytes, self.at + 1).map_err(|(at, what)| {
            self.at = at;
            what
        })?;
        Ok(())
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<(), &'static str> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err("invalid number");
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err("invalid number");
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err("invalid number");
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), &'static str> {
        for &expected in word {
            match self.peek() {
                Some(b) if b == expected => self.at += 1,
                Some(_) => return Err("expected ident"),
                None => return Err("EOF while parsing a value"),
            }
        }
        Ok(())
    }

    fn skip_whitespace(&mut self) {
        while let Some(b @ (b' ' | b'\n' | b'\t' | b'\r')) = self.peek() {
            self.outline.multiline |= b == b'\n';
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn error(&self, what: &'static str) -> SyntaxError {
        let before = &self.bytes[..self.at.min(self.bytes.len())];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        SyntaxError {
            what,
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            column: before.len() - line_start + 1,
        }
    }
}

/// Where the string whose contents start at `at` ends (past its closing quote), or where and
/// why it is not a JSON string.
#[inline(always)]
fn string_end(bytes: &[u8], mut at: usize) -> Result<usize, (usize, &'static str)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    loop {
        // Eight bytes at a time while none of them is a quote, a backslash or a control
        // character (the tests of "a byte equal to" and "a byte less than" from Bit Twiddling
        // Hacks, exact as to whether any byte matches).
        while let Some(chunk) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let quote = word ^ (ONES * u64::from(b'"'));
            let backslash = word ^ (ONES * u64::from(b'\\'));
            let special = (quote.wrapping_sub(ONES) & !quote
                | backslash.wrapping_sub(ONES) & !backslash
                | word.wrapping_sub(ONES * 0x20) & !word)
                & HIGH;
            if special != 0 {
                break;
            }
            at += 8;
        }
        while bytes.get(at).is_some_and(|&b| PLAIN[usize::from(b)]) {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'"') => return Ok(at + 1),
            Some(b'\\') => {
                at += 1;
                match bytes.get(at) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 1,
                    Some(b'u') => {
                        for _ in 0..4 {
                            at += 1;
                            match bytes.get(at) {
                                Some(b) if b.is_ascii_hexdigit() => {}
                                Some(_) => return Err((at, "invalid escape")),
                                None => return Err((at, "EOF while parsing a string")),
                            }
                        }
                        at += 1;
                    }
                    Some(_) => return Err((at, "invalid escape")),
                    None => return Err((at, "EOF while parsing a string")),
                }
            }
            Some(_) => return Err((at, "control character (\\u0000-\\u001F) found while parsing a string")),
            None => return Err((at, "EOF while parsing a string")),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
