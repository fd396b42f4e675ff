//! Checkpoints: where a harvest writing to a file stands, saved each time the file is synced.
//!
//! The checkpoint (`FILE.checkpoint`, JSON) holds the walk's first request and plan, the next
//! request, the records written so far
//! and the length of the output file at that point. It is written to a temporary file and
//! renamed over the old one, so it is always whole; the output is flushed and synced before,
//! so the file is never shorter than the checkpoint says. A resumed harvest cuts the file back
//! to that length (dropping a page written after the last checkpoint) and goes on from there.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::HarvestError;
use crate::plan::{Plan, Total};
use crate::request::Request;

/// Where a harvest stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The walk's first request: a resumed harvest must be the same walk.
    #[serde(default)]
    pub start: Option<Request>,
    /// How the walk reads its pages, once detected (and confirmed on the second page).
    #[serde(default)]
    pub plan: Option<Plan>,
    /// The next request, or `None` when the walk is complete.
    pub next: Option<Request>,
    /// Records written.
    pub records: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Bytes of the output file that hold those records.
    pub bytes: u64,
    /// The total the API declared, if it did.
    pub declared: Option<Total>,
    /// Records of the `next` page already written (a harvest stopped by `--max-records` in the
    /// middle of a page resumes after them).
    #[serde(default)]
    pub skip: u64,
    /// Whether a page-number walk switched to cursor links (page numbers were refused).
    #[serde(default)]
    pub cursors: bool,
}

/// The checkpoint file of an output file.
pub fn path_for(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// Reads the checkpoint of `out`, if there is one.
pub fn load(out: &Path) -> Result<Option<Checkpoint>, HarvestError> {
    let path = path_for(out);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            HarvestError::io(
                format!("cannot read the checkpoint {}", path.display()),
                std::io::Error::other(e),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HarvestError::io(format!("cannot read {}", path.display()), e)),
    }
}

/// Removes the checkpoint of `out`, if there is one.
pub fn remove(out: &Path) -> Result<(), HarvestError> {
    let path = path_for(out);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HarvestError::io(format!("cannot remove {}", path.display()), e)),
    }
}

/// Writes the checkpoint of `out` atomically.
pub fn save(out: &Path, checkpoint: &Checkpoint) -> Result<(), HarvestError> {
    let path = path_for(out);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let json = serde_json::to_vec(checkpoint)
        .map_err(|e| HarvestError::io("cannot encode the checkpoint", std::io::Error::other(e)))?;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| HarvestError::io(format!("cannot write {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_of_earlier_versions_still_load() {
        let old = r#"{"next": {"url": "http://h/a?page=2"}, "records": 10, "pages": 1, "bytes": 90, "declared": 40}"#;
        let checkpoint: Checkpoint = serde_json::from_str(old).unwrap();
        assert_eq!(checkpoint.declared, Some(Total { value: 40, exact: true }));
        assert!(checkpoint.start.is_none() && checkpoint.plan.is_none());
        let now = serde_json::to_string(&checkpoint).unwrap();
        assert_eq!(serde_json::from_str::<Checkpoint>(&now).unwrap(), checkpoint);
    }
}
