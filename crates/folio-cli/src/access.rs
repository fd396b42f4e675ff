//! The access file: which collections are private and the tokens that read them, as
//! `folio serve` reads it and `folio token` and `folio private` edit it.
//!
//! ```json
//! {"private": ["entries"],
//!  "tokens": [{"name": "alice", "hash": "sha256:<64 hex digits>", "collections": ["entries"]},
//!             {"name": "ops", "hash": "sha256:<64 hex digits>", "collections": "*"}]}
//! ```
//!
//! Tokens are `folio_` and 32 random bytes in base64url; the file keeps only the SHA-256 of
//! each (see `folio_http::TokenDigest` for why a fast hash is the right one). Edits hold a
//! lock (`FILE.lock`) and replace the file in one rename, so concurrent edits do not lose
//! each other's changes and a server never reads half a file.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use folio_engine::schema::validate_collection_name;
use folio_http::{AccessPolicy, Scope, TokenDigest, TokenGrant};
use serde::{Deserialize, Serialize};

/// The name of the access file in the data directory.
pub(crate) const DEFAULT_FILE: &str = "access.json";

/// What every token starts with, so that tokens are recognisable (in a leaked file, by a
/// secret scanner).
const TOKEN_PREFIX: &str = "folio_";

/// Where the access file is: `--access FILE`, else `DATA_DIR/access.json`. Only a file given
/// with `--access` must exist for `folio serve`.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// The file.
    pub(crate) path: PathBuf,
    /// Whether it was named explicitly (and so must exist when serving).
    pub(crate) explicit: bool,
}

impl Location {
    /// The file named by `--access`, else the default one in `data_dir`.
    pub(crate) fn new(access: Option<&Path>, data_dir: &Path) -> Location {
        match access {
            Some(path) => Location {
                path: path.to_owned(),
                explicit: true,
            },
            None => Location {
                path: data_dir.join(DEFAULT_FILE),
                explicit: false,
            },
        }
    }

    /// The policy the file describes; a default file that does not exist means every
    /// collection is public (`None`).
    pub(crate) fn policy(&self) -> anyhow::Result<Option<AccessPolicy>> {
        match read(&self.path)? {
            Some(file) => Ok(Some(
                file.policy().with_context(|| format!("in {}", self.path.display()))?,
            )),
            None if self.explicit => bail!("the access file {} does not exist", self.path.display()),
            None => Ok(None),
        }
    }
}

/// The contents of an access file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessFile {
    /// The private collections.
    #[serde(default)]
    pub(crate) private: Vec<String>,
    /// The tokens.
    #[serde(default)]
    pub(crate) tokens: Vec<TokenEntry>,
}

/// One token: its principal's name, its hash and what it may read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenEntry {
    /// The principal's name.
    pub(crate) name: String,
    /// `sha256:` and the hex digest of the token.
    pub(crate) hash: String,
    /// What it may read.
    pub(crate) collections: Collections,
}

impl std::fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hashes are not secrets, but nothing about tokens belongs in logs.
        f.debug_struct("TokenEntry")
            .field("name", &self.name)
            .field("collections", &self.collections)
            .finish_non_exhaustive()
    }
}

/// The collections of a token: `"*"` for all, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Collections {
    /// `"*"` (any other text is refused when the file is checked).
    All(String),
    /// These collections.
    Only(Vec<String>),
}

impl Collections {
    /// Parses `*` or a comma-separated list of names.
    pub(crate) fn parse(text: &str) -> anyhow::Result<Collections> {
        if text.trim() == "*" {
            return Ok(Collections::All("*".into()));
        }
        let names: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        let collections = Collections::Only(names);
        collections.scope()?;
        Ok(collections)
    }

    /// The scope, checked: `*`, or 1 or more valid collection names.
    fn scope(&self) -> anyhow::Result<Scope> {
        match self {
            Collections::All(star) if star == "*" => Ok(Scope::All),
            Collections::All(other) => {
                bail!("`collections` is `{other}`; give \"*\" for every collection or a list of collection names")
            }
            Collections::Only(names) if names.is_empty() => {
                bail!("`collections` is empty; give \"*\" for every collection or at least one collection name")
            }
            Collections::Only(names) => {
                for name in names {
                    check_collection(name)?;
                }
                Ok(Scope::Only(names.iter().cloned().collect()))
            }
        }
    }
}

impl std::fmt::Display for Collections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Collections::All(star) => f.write_str(star),
            Collections::Only(names) => f.write_str(&names.join(",")),
        }
    }
}

impl AccessFile {
    /// Checks the file and builds the policy it describes.
    pub(crate) fn policy(&self) -> anyhow::Result<AccessPolicy> {
        for name in &self.private {
            check_collection(name).context("in `private`")?;
        }
        let mut grants = Vec::with_capacity(self.tokens.len());
        for (i, entry) in self.tokens.iter().enumerate() {
            let grant = (|| -> anyhow::Result<TokenGrant> {
                validate_name(&entry.name)?;
                Ok(TokenGrant {
                    name: entry.name.clone(),
                    digest: parse_hash(&entry.hash)?,
                    scope: entry.collections.scope()?,
                })
            })()
            .with_context(|| format!("in token {} (`{}`)", i + 1, entry.name))?;
            grants.push(grant);
        }
        Ok(AccessPolicy::new(self.private.iter().cloned(), grants)?)
    }

    /// The private collections, sorted and without repeats.
    pub(crate) fn private_set(&self) -> BTreeSet<&str> {
        self.private.iter().map(String::as_str).collect()
    }
}

/// Checks a collection name (the rule every store applies).
pub(crate) fn check_collection(name: &str) -> anyhow::Result<()> {
    if validate_collection_name(name).is_err() {
        bail!(
            "`{name}` is not a collection name: names are 1 to 64 ASCII letters, digits, `_` or `-`, \
             starting with a letter or digit"
        );
    }
    Ok(())
}

/// Token names: 1 to 64 ASCII letters, digits, `_`, `-`, `.` or `@`, so that they print
/// plainly in logs and listings.
pub(crate) fn validate_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if !ok {
        bail!("the token name `{name}` must be 1 to 64 ASCII letters, digits, `_`, `-`, `.` or `@`");
    }
    Ok(())
}

/// A new random token.
pub(crate) fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes for a token: {e}"))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// How a token's digest is written in the file.
pub(crate) fn format_hash(digest: TokenDigest) -> String {
    let hex: String = digest.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn parse_hash(text: &str) -> anyhow::Result<TokenDigest> {
    let expected = "`hash` must be `sha256:` followed by 64 hex digits (folio token create writes it)";
    let Some(hex) = text.strip_prefix("sha256:") else {
        bail!("{expected}");
    };
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{expected}");
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).with_context(|| expected.to_owned())?;
    }
    Ok(TokenDigest::from_bytes(bytes))
}

/// Reads and parses the file; `None` if it does not exist.
pub(crate) fn read(path: &Path) -> anyhow::Result<Option<AccessFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read the access file {}", path.display())),
    };
    let file = serde_json::from_str(&text)
        .with_context(|| format!("the access file {} is not what folio expects", path.display()))?;
    Ok(Some(file))
}

/// Edits the file under its lock: reads it (empty if missing), applies `change`, checks the
/// result and replaces the file in one rename.
pub(crate) fn edit<T>(path: &Path, change: impl FnOnce(&mut AccessFile) -> anyhow::Result<T>) -> anyhow::Result<T> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let lock_path = with_suffix(path, ".lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let mut file = read(path)?.unwrap_or_default();
    let out = change(&mut file)?;
    file.policy()?;
    write(path, &file)?;
    drop(lock);
    Ok(out)
}

/// Writes the file to a temporary file beside it and renames that over it. A new file is
/// readable by its owner only; an existing one keeps its permissions.
fn write(path: &Path, file: &AccessFile) -> anyhow::Result<()> {
    let tmp = with_suffix(path, ".tmp");
    let mut text = serde_json::to_string_pretty(file).context("cannot serialize the access file")?;
    text.push('\n');
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out: File = options
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        out.set_permissions(meta.permissions())
            .with_context(|| format!("cannot set the permissions of {}", tmp.display()))?;
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_bad_ones_are_refused() {
        let digest = TokenDigest::of("folio_x");
        assert_eq!(parse_hash(&format_hash(digest)).unwrap(), digest);
        for bad in [
            "",
            "sha256:",
            "sha1:00",
            "sha256:zz",
            &format!("{}0", format_hash(digest)),
        ] {
            assert!(parse_hash(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_are_prefixed_random_and_url_safe() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("folio_") && a.len() == 6 + 43, "{a}");
        assert!(
            a[6..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
    }

    #[test]
    fn collections_parse_and_check() {
        assert_eq!(Collections::parse("*").unwrap(), Collections::All("*".into()));
        assert_eq!(
            Collections::parse("a, b,").unwrap(),
            Collections::Only(vec!["a".into(), "b".into()])
        );
        assert!(Collections::parse("").is_err());
        assert!(Collections::parse("a,b c").is_err());
        assert!(Collections::All("all".into()).scope().is_err());
    }

    #[test]
    fn files_are_checked_with_errors_that_name_the_token() {
        let file: AccessFile = serde_json::from_str(
            r#"{"private": ["entries"], "tokens": [{"name": "alice", "hash": "sha256:00", "collections": "*"}]}"#,
        )
        .unwrap();
        let e = format!("{:#}", file.policy().unwrap_err());
        assert!(e.contains("token 1 (`alice`)") && e.contains("64 hex digits"), "{e}");
        assert!(serde_json::from_str::<AccessFile>(r#"{"privat": []}"#).is_err());
    }

    #[test]
    fn debug_output_shows_no_hash() {
        let entry = TokenEntry {
            name: "alice".into(),
            hash: format_hash(TokenDigest::of("t")),
            collections: Collections::All("*".into()),
        };
        let text = format!("{entry:?}");
        assert!(!text.contains("sha256") && text.contains("alice"), "{text}");
    }
}
