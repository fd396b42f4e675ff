//! Where the cursor signing secret comes from: `--secret-file`, `FOLIO_SECRET`, or a secret
//! generated on first start and kept in the data directory.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, bail};

/// The file in the data directory that keeps a generated secret.
const SECRET_FILE: &str = "secret";

/// Secrets shorter than this are refused: they could be guessed, and with them cursors forged.
const MIN_LEN: usize = 16;

/// Loads the secret, in order of precedence: the file given, the environment variable, the
/// data directory (generated there if missing).
pub(crate) fn load(file: Option<&Path>, env: Option<String>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("cannot read the secret file {}", file.display()))?;
        return check(text.trim_end().as_bytes(), &format!("--secret-file {}", file.display()));
    }
    if let Some(env) = env {
        return check(env.as_bytes(), "FOLIO_SECRET");
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => check(text.trim_end().as_bytes(), &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(&path),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
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

fn generate(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes for a secret: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a cursor signing secret");
            Ok(hex.into_bytes())
        }
        // Another process created it first: use theirs, so both accept the same cursors.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            check(text.trim_end().as_bytes(), &path.display().to_string())
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}
