//! `folio harvest` as a real process: killed with SIGKILL mid-way, then resumed.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::serve;

#[test]
fn a_harvest_killed_mid_way_resumes_with_no_duplicate_and_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--demo", "--demo-size", "4000"]);
    let out = dir.path().join("entries.jsonl");
    let checkpoint = dir.path().join("entries.jsonl.checkpoint");
    let url = format!(
        "{}/jsonapi/entries?page[cursor]=1&page[size]=4&sort=-upload_create_time",
        server.base
    );
    let harvest = |resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
        command.args(["harvest", &url, "--quiet", "--out", out.to_str().unwrap()]);
        if resume {
            command.arg("--resume");
        }
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        command
    };

    let mut child = harvest(false).spawn().unwrap();
    let started = Instant::now();
    loop {
        let records = std::fs::read(&checkpoint)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|c| c["records"].as_u64())
            .unwrap_or(0);
        if records >= 400 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the harvest makes no progress"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill: serde_json::Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert!(!at_kill["next"].is_null(), "killed mid-way, not after the end");

    let resumed = harvest(true).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("harvested 4000 records"));

    let text = std::fs::read_to_string(&out).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 4000, "no gap");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 4000, "no duplicate");
}

#[test]
fn a_lasting_error_exits_non_zero_and_writes_no_partial_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--demo", "--demo-size", "50"]);
    let out = dir.path().join("x.jsonl");
    let result = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args([
            "harvest",
            &format!("{}/jsonapi/nope", server.base),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("404") && stderr.contains("nope"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "");
}
