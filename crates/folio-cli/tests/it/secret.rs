//! Rotating the cursor signing keys: `folio secret rotate` and `retire` with a server that
//! reloads them on SIGHUP, and the environment's `FOLIO_SECRET_VERIFY`.

use std::time::{Duration, Instant};

use crate::process::{folio, get_json, serve_with};

/// The `links.next` of the first page of `entries`, as a server signs it now.
async fn next_link(base: &str) -> String {
    let (status, body) = get_json(&format!("{base}/jsonapi/entries?page[cursor]=1&page[size]=10")).await;
    assert_eq!(status, 200, "{body}");
    body["links"]["next"].as_str().unwrap().to_owned()
}

async fn status_of(base: &str, link: &str) -> (u16, serde_json::Value) {
    get_json(&format!("{base}{link}")).await
}

fn hangup(pid: u32) {
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Fails the test once a poll has waited 30 s (the server reloads after the signal, on its
/// own time).
fn within_limit(started: Instant, what: &str) {
    assert!(started.elapsed() < Duration::from_secs(30), "{what} after 30 s");
}

#[tokio::test]
async fn rotated_keys_verify_until_retired_and_a_running_server_reloads_them_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve_with(&data, &["--demo", "--demo-size", "300"], |c| {
        c.env_remove("FOLIO_SECRET");
    });
    let base = server.base.clone();
    let old = next_link(&base).await;

    let rotated = folio(&["secret", "rotate", "--data-dir", data.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&rotated.stderr);
    assert!(rotated.status.success() && said.contains("now holds 2 keys"), "{said}");
    hangup(server.child.id());
    // New cursors are signed with the new key; the old one still verifies.
    let started = Instant::now();
    let new = loop {
        let link = next_link(&base).await;
        if link != old {
            break link;
        }
        within_limit(started, "no cursor signed with the new key");
        tokio::task::yield_now().await;
    };
    assert_eq!(
        status_of(&base, &old).await.0,
        200,
        "a cursor of the old key, after the rotation"
    );
    assert_eq!(status_of(&base, &new).await.0, 200);

    let retired = folio(&["secret", "retire", "--data-dir", data.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&retired.stderr);
    assert!(retired.status.success() && said.contains("now holds 1 key"), "{said}");
    hangup(server.child.id());
    let started = Instant::now();
    while status_of(&base, &old).await.0 != 400 {
        within_limit(started, "the retired key still verifies");
        tokio::task::yield_now().await;
    }
    let (_, body) = status_of(&base, &old).await;
    assert_eq!(body["errors"][0]["code"], "invalid-cursor", "{body}");
    assert_eq!(status_of(&base, &new).await.0, 200, "the newest key still verifies");
    let file = std::fs::read_to_string(data.join("secret")).unwrap();
    assert_eq!(file.lines().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("secret")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_fleet_rotates_through_folio_secret_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (old_key, new_key) = ("the old fleet secret of 32 bytes", "the new fleet secret of 32 bytes");
    let env = |signing: &'static str, verify: Option<&'static str>| {
        move |c: &mut std::process::Command| {
            c.env("FOLIO_SECRET", signing);
            match verify {
                Some(v) => c.env("FOLIO_SECRET_VERIFY", v),
                None => c.env_remove("FOLIO_SECRET_VERIFY"),
            };
        }
    };
    let old = serve_with(&data, &["--demo", "--demo-size", "300"], env(old_key, None));
    let link = next_link(&old.base).await;
    let rotated = serve_with(&data, &[], env(new_key, Some(old_key)));
    assert_eq!(
        status_of(&rotated.base, &link).await.0,
        200,
        "the old key verifies on a rotated server"
    );
    let retired = serve_with(&data, &[], env(new_key, None));
    let (status, body) = status_of(&retired.base, &link).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["code"], "invalid-cursor");
    let fresh = next_link(&rotated.base).await;
    assert_eq!(
        status_of(&retired.base, &fresh).await.0,
        200,
        "the rotated server signs with the new key"
    );
}
