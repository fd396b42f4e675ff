//! The cursor signing keys: where they come from (`--secret-file`, `FOLIO_SECRET`, or a file
//! generated on first start in the data directory), and `folio secret rotate` / `retire`.
//!
//! A secret file holds one key a line, the newest last: the newest signs new cursors, the
//! others still verify the cursors clients hold. `rotate` appends a new key, `retire` keeps
//! only the newest; a running server reads the file again on SIGHUP. From the environment,
//! `FOLIO_SECRET` signs and `FOLIO_SECRET_VERIFY` (keys separated by commas) only verifies.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use folio_engine::CursorCodec;

/// The file in the data directory that keeps generated keys.
const SECRET_FILE: &str = "secret";

/// Keys shorter than this are refused: they could be guessed, and with them cursors forged.
const MIN_LEN: usize = 16;

/// The keys a server signs and verifies cursors with.
#[derive(Debug)]
pub(crate) struct Keys {
    /// The key that signs, then older ones that verify.
    keys: Vec<Vec<u8>>,
    /// The file they were read from, read again on SIGHUP; `None` for the environment.
    pub(crate) file: Option<PathBuf>,
}

impl Keys {
    /// The codec of these keys.
    pub(crate) fn codec(&self) -> CursorCodec {
        let older: Vec<&[u8]> = self.keys[1..].iter().map(Vec::as_slice).collect();
        CursorCodec::with_older(&self.keys[0], &older)
    }

    /// How many keys verify cursors.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Loads the keys, in order of precedence: the file given, the environment, the data
/// directory (a key generated there if there is none).
pub(crate) fn load(
    file: Option<&Path>,
    env: Option<String>,
    verify: Option<String>,
    data_dir: &Path,
) -> anyhow::Result<Keys> {
    if let Some(file) = file {
        return read_file(file);
    }
    if let Some(env) = env {
        let mut keys = vec![check(env.as_bytes(), "FOLIO_SECRET")?];
        for older in verify.iter().flat_map(|v| v.split(',')).filter(|k| !k.is_empty()) {
            keys.push(check(older.as_bytes(), "FOLIO_SECRET_VERIFY")?);
        }
        return Ok(Keys { keys, file: None });
    }
    let path = data_dir.join(SECRET_FILE);
    if !path.exists() {
        generate(&path)?;
    }
    read_file(&path)
}

/// Reads a secret file: one key a line, the newest (the signing one) last.
pub(crate) fn read_file(path: &Path) -> anyhow::Result<Keys> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the secret file {}", path.display()))?;
    let mut keys = text
        .lines()
        .map(str::trim_end)
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(n, line)| check(line.as_bytes(), &format!("{} line {}", path.display(), n + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if keys.is_empty() {
        bail!("the secret file {} holds no key", path.display());
    }
    keys.reverse();
    Ok(Keys {
        keys,
        file: Some(path.to_owned()),
    })
}

fn check(secret: &[u8], source: &str) -> anyhow::Result<Vec<u8>> {
    if secret.len() < MIN_LEN {
        bail!(
            "the secret from {source} has {} bytes; use at least {MIN_LEN} random bytes \
             (for example the output of `openssl rand -hex 32`)",
            secret.len()
        );
    }
    Ok(secret.to_vec())
}

/// 32 random bytes, as hex.
fn random_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes for a secret: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates `path` with a new key, unless another process created it first (then both use
/// theirs, so both accept the same cursors).
fn generate(path: &Path) -> anyhow::Result<()> {
    let key = random_key()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a cursor signing secret");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Replaces `path` with `lines` in one rename, readable by its owner only.
fn write_file(path: &Path, lines: &[String]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(lines.join("\n").as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Rotate the keys that sign cursors, without breaking the cursors clients hold.
///
/// A secret file holds one key a line, the newest last: the newest signs new cursors, the
/// others still verify. `rotate` adds a new key; once every client has had time to finish its
/// walks, `retire` removes all but the newest, and cursors signed with the others are refused
/// (400 invalid-cursor). Running servers read the file again on SIGHUP (`kill -HUP PID`), or
/// at their next start.
///
/// Servers that take their secret from the environment rotate by restarting in two steps:
/// first with FOLIO_SECRET=NEW and FOLIO_SECRET_VERIFY=OLD on every server, then, when the old
/// cursors may go, without FOLIO_SECRET_VERIFY.
///
/// Examples:
///   folio secret rotate                              # the data directory's secret file
///   folio secret rotate --secret-file /etc/folio/secret
///   folio secret retire --data-dir /srv/folio
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct SecretArgs {
    #[command(subcommand)]
    action: SecretAction,

    /// The data directory whose `secret` file holds the keys (the one `folio serve` uses).
    #[arg(long, default_value = "./folio-data", value_name = "DIR", global = true)]
    data_dir: PathBuf,

    /// A secret file to change instead of the data directory's (as `folio serve
    /// --secret-file` reads it).
    #[arg(long, value_name = "FILE", global = true)]
    secret_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum SecretAction {
    /// Add a new key that signs new cursors; the older keys still verify.
    Rotate,
    /// Keep only the newest key: cursors signed with the others are refused from then on.
    Retire,
}

/// Runs `folio secret`.
pub(crate) fn run(args: SecretArgs) -> anyhow::Result<()> {
    let path = args
        .secret_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join(SECRET_FILE));
    if std::env::var_os("FOLIO_SECRET").is_some() && args.secret_file.is_none() {
        tracing::warn!("FOLIO_SECRET is set: servers that read it do not use this file (see `folio secret --help`)");
    }
    // The file as it is, oldest first.
    let mut lines: Vec<String> = match read_file(&path) {
        Ok(keys) => keys
            .keys
            .iter()
            .rev()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect(),
        Err(e) if !path.exists() && matches!(args.action, SecretAction::Rotate) => {
            tracing::debug!(error = %e, "no secret file yet");
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    match args.action {
        SecretAction::Rotate => lines.push(random_key()?),
        SecretAction::Retire => {
            let newest = lines.split_off(lines.len() - 1);
            lines = newest;
        }
    }
    write_file(&path, &lines)?;
    eprintln!(
        "{} now holds {} key{}: the newest signs new cursors{}; send SIGHUP to running servers (kill -HUP PID) or restart them",
        path.display(),
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        if lines.len() > 1 {
            ", the others still verify"
        } else {
            ", and only it verifies"
        },
    );
    Ok(())
}
