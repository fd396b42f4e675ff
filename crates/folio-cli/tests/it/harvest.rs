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
    // Pages of 2: 2,000 pages, so that even a fast walk outlasts the first checkpoint (1 s).
    let url = format!(
        "{}/jsonapi/entries?page[cursor]=1&page[size]=2&sort=-upload_create_time",
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

/// `--explain` reads two pages, says what it detected and prints flags that reproduce it;
/// those flags alone harvest the same records, and the first line on stderr of a harvest says
/// what was detected.
#[test]
fn explain_prints_what_was_detected_and_flags_that_reproduce_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--demo", "--demo-size", "120"]);
    let url = format!("{}/hal/entries?limit=50", server.base);
    let explained = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["harvest", "--explain", &url])
        .output()
        .unwrap();
    assert!(
        explained.status.success(),
        "{}",
        String::from_utf8_lossy(&explained.stderr)
    );
    let stdout = String::from_utf8(explained.stdout).unwrap();
    assert!(
        stdout.starts_with("detected: next links in the body at `_links.next.href`"),
        "{stdout}"
    );
    assert!(stdout.contains("read 100 records in 2 pages"), "{stdout}");
    let command = stdout
        .lines()
        .find_map(|l| l.strip_prefix("the same without detection: folio harvest "))
        .unwrap();
    assert!(
        command.contains("--next-url-path _links.next.href --records-path _embedded.items"),
        "{command}"
    );

    let out = dir.path().join("explicit.jsonl");
    let flags = [
        "--next-url-path",
        "_links.next.href",
        "--records-path",
        "_embedded.items",
    ];
    let explicit = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["harvest", &url, "--quiet", "--out", out.to_str().unwrap()])
        .args(flags)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&explicit.stderr);
    assert!(explicit.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("detected: next links in the body at `_links.next.href`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 120);

    // The same command again leaves the complete file alone and says how to replace it.
    let again = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["harvest", &url, "--quiet", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        stderr.contains("holds a complete harvest") && stderr.contains("--overwrite"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 120);
}

/// `--help` names only `--style` values that exist, and a preset is not silently overridden
/// by a flag that names another way of paging.
#[test]
fn style_presets_are_the_values_help_names_and_exclude_explicit_ways_of_paging() {
    let help = crate::process::folio(&["harvest", "--help"]);
    let help = String::from_utf8(help.stdout).unwrap();
    let (_, values) = help.split_once("Possible values:").unwrap();
    let possible: Vec<&str> = values
        .lines()
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(possible, ["auto", "jsonapi", "hal", "link", "body-cursor"], "{help}");
    for (at, _) in help.match_indices("--style ") {
        let named = help[at + "--style ".len()..]
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .next()
            .unwrap();
        // `--style <STYLE>` is the flag itself; a word after it is a value.
        assert!(
            named.is_empty() || possible.contains(&named),
            "--help names `--style {named}`, which is not a value:\n{help}"
        );
    }

    let out = crate::process::folio(&[
        "harvest",
        "http://127.0.0.1:9/items",
        "--style",
        "hal",
        "--cursor-path",
        "meta.next",
        "--cursor-param",
        "cursor",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--style") && stderr.contains("--cursor-path") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
}

/// `harvest --partitions`: the parts walked at once, the harvester killed mid-way, its server
/// replaced by another process on the same data and secret, and the harvest resumed there:
/// every record once, in the order of the plain cursor walk.
#[test]
fn a_partitioned_harvest_killed_mid_way_resumes_on_another_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secret = Some("a secret shared by the fleet");
    let first = crate::process::serve_with_secret(&data, &["--demo", "--demo-size", "4000"], secret);
    let addr = first.base.trim_start_matches("http://").to_owned();
    let out = dir.path().join("entries.jsonl");
    let parts = dir.path().join("entries.jsonl.parts");
    let query = "page[size]=2&sort=-upload_create_time";
    let url = format!("{}/jsonapi/entries?{query}", first.base);
    let harvest = |resume: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
        command.args([
            "harvest",
            &url,
            "--quiet",
            "--partitions",
            "4",
            "--out",
            out.to_str().unwrap(),
        ]);
        if resume {
            command.arg("--resume");
        }
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        command
    };

    let mut child = harvest(false).spawn().unwrap();
    let started = Instant::now();
    let checkpointed = |i: usize| {
        std::fs::read(parts.join(format!("part-{i:04}.jsonl.checkpoint")))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|c| c["records"].as_u64())
            .unwrap_or(0)
    };
    while (1..=4).map(checkpointed).sum::<u64>() < 400 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the harvest makes no progress"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.exists(), "killed mid-way, before the parts were joined");
    assert!(
        (1..=4).map(checkpointed).sum::<u64>() < 4000,
        "killed mid-way, not after the end"
    );

    // Another process takes the first one's place: same data, same secret, same address.
    drop(first);
    let second = crate::process::serve_with_secret(&data, &["--addr", &addr], secret);
    let resumed = harvest(true).output().unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(stderr.contains("harvested 4000 records"), "{stderr}");
    assert!(!parts.exists(), "the parts are removed once joined");
    let again = harvest(true).output().unwrap();
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{said}");
    assert!(said.contains("holds a complete partitioned harvest"), "{said}");

    // A URL that is not a folio JSON:API list: no partitions there, said as such.
    let hal = dir.path().join("hal.jsonl");
    let refused = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args([
            "harvest",
            &format!("{}/hal/entries?limit=10", second.base),
            "--partitions",
            "2",
        ])
        .args(["--quiet", "--out", hal.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("--partitions takes the URL of a folio `/jsonapi/{collection}` list"),
        "{said}"
    );

    let ids_in = |path: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let joined = ids_in(&out);
    let plain = dir.path().join("plain.jsonl");
    let walk = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args([
            "harvest",
            &format!(
                "{}/jsonapi/entries?page[cursor]=1&page[size]=1000&sort=-upload_create_time",
                second.base
            ),
        ])
        .args(["--quiet", "--out", plain.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(walk.status.success(), "{}", String::from_utf8_lossy(&walk.stderr));
    assert_eq!(joined.len(), 4000, "no gap");
    assert_eq!(joined, ids_in(&plain), "no duplicate, in the result's order");
}
