//! Private collections through the real binary: `folio token` and `folio private` edit the
//! access file (which never holds a token), `folio serve` applies it, reloads it on SIGHUP,
//! and never logs a token.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::process::{self, Server};

/// Runs `folio ARGS.. --data-dir DIR` to completion.
fn folio(dir: &Path, args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--data-dir", dir.to_str().unwrap()]);
    process::folio(&all)
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[track_caller]
fn fails(out: &Output, message: &str) {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(message), "{stderr}");
}

/// Creates a token and returns it.
fn create(dir: &Path, name: &str, collections: &str) -> String {
    let stdout = ok(&folio(
        dir,
        &["token", "create", "--name", name, "--collections", collections],
    ));
    let token = stdout.trim().to_owned();
    assert_eq!(stdout, format!("{token}\n"), "the token alone, on one line");
    token
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_access_file_keeps_hashes_and_never_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let alice = create(dir.path(), "alice", "entries,dois");
    let ops = create(dir.path(), "ops", "*");
    assert!(alice.starts_with("folio_") && alice.len() == 49, "{alice}");
    assert_ne!(alice, ops);

    let path = dir.path().join("access.json");
    let text = std::fs::read_to_string(&path).unwrap();
    for token in [&alice, &ops] {
        assert!(
            !text.contains(token.as_str()) && !text.contains(&token["folio_".len()..]),
            "{text}"
        );
        assert!(text.contains(&format!("sha256:{}", sha256_hex(token))), "{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a new access file is readable by its owner only");
    }

    // Listings name tokens and what they read, never hashes.
    let list = ok(&folio(dir.path(), &["token", "list"]));
    assert_eq!(list, "alice\tentries,dois\nops\t*\n");

    fails(
        &folio(
            dir.path(),
            &["token", "create", "--name", "alice", "--collections", "x"],
        ),
        "a token named `alice` exists",
    );
    fails(
        &folio(
            dir.path(),
            &["token", "create", "--name", "bob", "--collections", "a b"],
        ),
        "`a b` is not a collection name",
    );
    fails(
        &folio(
            dir.path(),
            &["token", "create", "--name", "no spaces", "--collections", "a"],
        ),
        "token name",
    );
    fails(
        &folio(dir.path(), &["token", "revoke", "--name", "bob"]),
        "no token is named `bob`",
    );

    ok(&folio(dir.path(), &["token", "revoke", "--name", "alice"]));
    assert_eq!(ok(&folio(dir.path(), &["token", "list"])), "ops\t*\n");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(&sha256_hex(&alice)) && text.contains(&sha256_hex(&ops)),
        "{text}"
    );

    ok(&folio(dir.path(), &["private", "add", "entries", "dois"]));
    ok(&folio(dir.path(), &["private", "add", "entries"]));
    assert_eq!(ok(&folio(dir.path(), &["private", "list"])), "dois\nentries\n");
    ok(&folio(dir.path(), &["private", "remove", "dois"]));
    assert_eq!(ok(&folio(dir.path(), &["private", "list"])), "entries\n");
    fails(
        &folio(dir.path(), &["private", "remove", "dois"]),
        "`dois` is not private",
    );

    // --access names another file; the default one is untouched.
    let other = dir.path().join("elsewhere.json");
    let args = ["private", "add", "vault", "--access", other.to_str().unwrap()];
    ok(&folio(dir.path(), &args));
    assert!(std::fs::read_to_string(&other).unwrap().contains("vault"));
    assert_eq!(ok(&folio(dir.path(), &["private", "list"])), "entries\n");
}

#[test]
fn a_broken_or_missing_access_file_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::null())
            .output()
            .unwrap()
    };
    let missing = dir.path().join("missing.json");
    fails(
        &serve(&["--access", missing.to_str().unwrap()]),
        "missing.json does not exist",
    );
    let broken = dir.path().join("access.json");
    std::fs::write(
        &broken,
        r#"{"private": ["entries"], "tokens": [{"name": "a", "hash": "md5:1", "collections": "*"}]}"#,
    )
    .unwrap();
    // The default file is read too: a broken one is never taken for "nothing is private".
    fails(&serve(&[]), "64 hex digits");
}

/// GETs `path` with an optional bearer token; returns the status.
async fn status(server: &Server, path: &str, token: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_server_applies_the_access_file_reloads_it_on_sighup_and_logs_no_token() {
    let dir = tempfile::tempdir().unwrap();
    ok(&folio(dir.path(), &["private", "add", "entries"]));
    let alice = create(dir.path(), "alice", "entries");
    let bob = create(dir.path(), "bob", "other");
    let log = dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let server = process::serve_with(dir.path(), &["--demo", "--demo-size", "300"], |command| {
        command.env("RUST_LOG", "trace").stderr(log_file);
    });

    let path = "/jsonapi/entries?page[size]=10";
    assert_eq!(status(&server, path, None).await, 401);
    assert_eq!(status(&server, path, Some(&alice)).await, 200);
    assert_eq!(status(&server, path, Some(&bob)).await, 404);
    assert_eq!(status(&server, path, Some("folio_guess")).await, 404);

    // `folio harvest` reads a private collection with the token as a header.
    let harvest = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["harvest", "--quiet", "--header"])
        .arg(format!("Authorization: Bearer {alice}"))
        .arg(format!("{}/jsonapi/entries?page[cursor]=1&page[size]=70", server.base))
        .output()
        .unwrap();
    let records = ok(&harvest);
    assert_eq!(records.lines().count(), 300);

    // A revoked token stops working once the server reads the file again, on SIGHUP.
    ok(&folio(dir.path(), &["token", "revoke", "--name", "alice"]));
    assert_eq!(status(&server, path, Some(&alice)).await, 200, "not before the reload");
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let started = Instant::now();
    while status(&server, path, Some(&alice)).await != 404 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload the access file"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status(&server, path, None).await, 401, "the collection stays private");

    // A deleted file is not taken for "nothing is private": the policy stays as it was.
    std::fs::remove_file(dir.path().join("access.json")).unwrap();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let started = Instant::now();
    while !std::fs::read_to_string(&log).unwrap().contains("is gone") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGHUP did not read the access file"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status(&server, path, None).await, 401, "the collection stays private");
    drop(server);

    let log = std::fs::read_to_string(&log).unwrap();
    // The log is detailed enough to show requests (so the check below means something) ...
    assert!(
        log.contains("/jsonapi/entries") && log.contains("reloaded the access file"),
        "{log}"
    );
    // ... and holds neither a token nor a hash.
    for token in [&alice, &bob] {
        assert!(!log.contains(&token["folio_".len()..]), "a token is in the log");
        assert!(!log.contains(&sha256_hex(token)[..16]), "a hash is in the log");
    }
    assert!(!log.contains("folio_guess"), "a presented token is in the log");
}
