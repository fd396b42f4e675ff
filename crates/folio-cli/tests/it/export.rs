//! Downloads from a real server: `folio harvest` resumes one cut mid-way, the server's memory
//! stays flat over a download larger than it could hold, and a client that leaves stops the
//! read.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::process::{folio, on_postgres, on_sqlite, serve, serve_with};

/// A TCP proxy on 127.0.0.1 to the server at `base` that cuts its first connection once `cut`
/// bytes of the server's answer went through; later connections pass whole. Returns its base.
fn cutting_proxy(base: &str, cut: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let target = base.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let server = TcpStream::connect(&target).unwrap();
            let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_client, &mut to_server);
            });
            let limit = if n == 0 { cut } else { usize::MAX };
            std::thread::spawn(move || {
                let (mut from_server, mut to_client) = (server, client);
                let mut buf = vec![0u8; 64 << 10];
                let mut sent = 0;
                while sent < limit {
                    let read = match from_server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => read.min(limit - sent),
                    };
                    if to_client.write_all(&buf[..read]).is_err() {
                        break;
                    }
                    sent += read;
                }
                let _ = to_client.shutdown(Shutdown::Both);
                let _ = from_server.shutdown(Shutdown::Both);
            });
        }
    });
    format!("http://{addr}")
}

/// The body of a GET, whole.
fn download(url: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    })
}

#[test]
fn a_download_cut_mid_way_is_harvested_whole_on_both_stores() {
    on_sqlite(check_cut_download);
    on_postgres(check_cut_download);
}

fn check_cut_download(target: &[&str], data: &Path, serve_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("things.jsonl");
    let lines: Vec<String> = (0..6000)
        .map(|i| format!("{{\"id\":{i},\"group\":{},\"text\":\"{}\"}}", i % 7, "x".repeat(200)))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut args = vec!["import", file.to_str().unwrap(), "--collection", "things", "--id", "id"];
    args.extend(target);
    let imported = folio(&args);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let server = serve(data, serve_args);
    let query = "/export/things.ndjson?sort=-group&filter%5Bgroup%5D%5Blt%5D=5";
    let whole = download(&format!("{}{query}", server.base));
    assert!(whole.len() > 600_000, "{} bytes", whole.len());
    // The first answer is cut after a third of the download, mid-line.
    let proxy = cutting_proxy(&server.base, whole.len() / 3 + 17);
    let out = dir.path().join("harvested.jsonl");
    let harvest = folio(&["harvest", &format!("{proxy}{query}"), "--out", out.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&harvest.stderr);
    assert!(harvest.status.success(), "{said}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        whole,
        "no record twice, none lost: {said}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("harvested.jsonl.manifest.json")).unwrap()).unwrap();
    assert!(manifest["retries"].as_u64().unwrap() >= 1, "{manifest}");
    assert_eq!(manifest["complete"], true, "{manifest}");
}

/// A process's heap: its anonymous resident memory, in bytes (the SQLite file it maps is not
/// counted).
fn anonymous_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[test]
fn memory_stays_flat_over_a_large_download_and_a_client_that_leaves_stops_the_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("big.jsonl");
    // 20,000 records of 5 kB: 100 MB, far more than the server may hold.
    let records = 20_000u64;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for i in 0..records {
            writeln!(out, "{{\"id\":{i},\"pad\":\"{}\"}}", "p".repeat(5000)).unwrap();
        }
    }
    let imported = folio(&[
        "import",
        file.to_str().unwrap(),
        "--collection",
        "big",
        "--id",
        "id",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let log = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let server = serve_with(&data, &[], |command| {
        command
            .env("RUST_LOG", "folio_http=debug")
            .stderr(Stdio::from(log_file));
    });
    let pid = server.child.id();
    let url = format!("{}/export/big.ndjson", server.base);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A first small download warms the server up (threads, connections, caches).
        let warm = reqwest::get(format!("{url}?filter%5Bid%5D%5Blt%5D=300")).await.unwrap();
        assert_eq!(warm.text().await.unwrap().lines().count(), 300);
        let baseline = anonymous_bytes(pid);

        // A slow client: it stops reading for a while, then reads on in small steps.
        let mut response = reqwest::get(&url).await.unwrap();
        let mut received = 0usize;
        let mut peak = baseline;
        let mut paused = false;
        while let Some(chunk) = response.chunk().await.unwrap() {
            received += chunk.len();
            if received > 1 << 20 && !paused {
                // Let the server run ahead of this client as far as it would.
                tokio::time::sleep(Duration::from_millis(800)).await;
                paused = true;
            }
            peak = peak.max(anonymous_bytes(pid));
        }
        assert!(received > 100_000_000, "{received} bytes");
        let grew = peak.saturating_sub(baseline);
        eprintln!(
            "the server's heap grew by {} MiB over a download of {} MiB",
            grew >> 20,
            received >> 20
        );
        assert!(
            grew < 48 << 20,
            "the server's heap grew by {} MiB over a download of {} MiB",
            grew >> 20,
            received >> 20
        );

        // A client that reads the first chunk and leaves.
        let mut response = reqwest::get(&url).await.unwrap();
        response.chunk().await.unwrap().unwrap();
    });
    // With the runtime, its connections go: the client has left.
    drop(rt);

    let started = Instant::now();
    let stopped = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if let Some(line) = text.lines().find(|l| l.contains("download stopped: the client left")) {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the download never stopped:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let sent: u64 = stopped
        .split("records=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stopped}"));
    assert!(sent < records / 2, "the read went on after the client left: {stopped}");
}
