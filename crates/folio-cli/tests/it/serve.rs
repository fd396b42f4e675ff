//! `folio serve` as a real process: the address line, the kept secret, clean shutdown.

use std::path::Path;
use std::process::Command;

use crate::process::{self, Server, get_json};

fn start(data_dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--demo", "--demo-size", "300"];
    args.extend(extra);
    process::serve(data_dir, &args)
}

#[tokio::test]
async fn cursors_survive_a_restart_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(dir.path(), &[]);
    let (status, body) = get_json(&format!("{}/jsonapi/entries?page[cursor]=1&page[size]=100", first.base)).await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["total"], 300);
    let next = body["links"]["next"].as_str().unwrap().to_owned();
    let (_, expected) = get_json(&format!("{}{next}", first.base)).await;
    stop(first);

    // A restart reuses the generated secret and the stored demo: the same link still works.
    let second = start(dir.path(), &[]);
    let (status, again) = get_json(&format!("{}{next}", second.base)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["data"], expected["data"]);
    stop(second);

    // With another secret the token is refused.
    let secret_file = dir.path().join("other-secret");
    std::fs::write(&secret_file, "another secret of enough length").unwrap();
    let third = start(dir.path(), &["--secret-file", secret_file.to_str().unwrap()]);
    let (status, refused) = get_json(&format!("{}{next}", third.base)).await;
    assert_eq!(status, 400);
    assert_eq!(refused["errors"][0]["code"], "invalid-cursor");
    stop(third);
}

#[test]
fn a_short_secret_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("FOLIO_SECRET", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("FOLIO_SECRET") && stderr.contains("at least 16"),
        "{stderr}"
    );
}

/// A SIGTERM sent as soon as the address is printed stops the server cleanly: the handlers
/// are installed before the address is printed.
#[test]
fn sigterm_right_after_the_address_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // The demo is built once; the other starts only open it.
    stop(start(dir.path(), &[]));
    for _ in 0..10 {
        stop(start(dir.path(), &[]));
    }
}

/// Sends SIGTERM and expects a clean exit.
fn stop(mut running: Server) {
    let pid = running.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = running.child.wait().unwrap();
    assert!(exit.success(), "folio exits 0 on SIGTERM, got {exit:?}");
}

/// The start-up hint names a collection that is served, not the demo's `entries`.
#[test]
fn the_start_up_hint_names_a_served_collection() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cities.jsonl");
    std::fs::write(&file, "{\"name\": \"Lyon\", \"population\": 522000}\n").unwrap();
    let imported = process::folio(&[
        "import",
        file.to_str().unwrap(),
        "--collection",
        "cities",
        "--id",
        "name",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let log = dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let _server = process::serve_with(dir.path(), &[], |command| {
        command.stderr(log_file);
    });
    // The hint is logged right after the address line: wait for it, bounded.
    let started = std::time::Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("try: curl") || started.elapsed() > std::time::Duration::from_secs(10) {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(text.contains("/jsonapi/cities?"), "{text}");
    assert!(!text.contains("/jsonapi/entries"), "{text}");
}
