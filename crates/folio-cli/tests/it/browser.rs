//! The browse page in a real browser: `folio serve --demo` (small), headless Chromium driven
//! through chromedriver (WebDriver), clicking "next" and a column header; and the API reference
//! at `/docs`, which must render without any other network.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium
//! chromium-driver`); without them the test says `browser test SKIPPED` and passes, unless
//! `FOLIO_REQUIRE_BROWSER=1` (as in `.ci/run`), which makes that a failure. Screenshots are
//! written under `target/tmp/browser/`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};

use crate::process::serve;

/// A chromedriver process, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The file named by the variable `env`, else the first of `candidates` that exists (names
/// without a directory are looked up on `PATH`).
fn find(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    candidates.iter().find_map(|name| {
        let direct = PathBuf::from(name);
        if direct.is_absolute() {
            return direct.is_file().then_some(direct);
        }
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or `None` (after saying so) when either is missing and the
/// browser test is not required.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = find("FOLIO_CHROMIUM", &["/usr/bin/chromium", "chromium", "chromium-browser"]);
    let driver = find("FOLIO_CHROMEDRIVER", &["/usr/bin/chromedriver", "chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ if std::env::var("FOLIO_REQUIRE_BROWSER").is_ok_and(|v| v == "1") => {
            panic!(
                "the browser test is required (FOLIO_REQUIRE_BROWSER=1) but chromium or chromedriver is missing \
                 (apt-get install -y chromium chromium-driver)"
            )
        }
        _ => {
            // Past the test harness's capture, so that a skip is never silent.
            let _ = writeln!(
                std::io::stderr(),
                "\nbrowser test SKIPPED: chromium or chromedriver not found (apt-get install -y chromium chromium-driver)\n"
            );
            None
        }
    }
}

/// Starts chromedriver on a free port and waits until it answers.
async fn start_driver(path: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/status", driver.url))
            .await
            .ok()
            .filter(|r| r.status().is_success());
        if ready.is_some() {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not answer within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(driver: &Driver, chromium: &PathBuf) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// The ids of the table's rows, as the browser shows them.
async fn shown_ids(client: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    for cell in client.find_all(Locator::Css("td.id a")).await.unwrap() {
        ids.push(cell.text().await.unwrap());
    }
    ids
}

/// The ids of a JSON:API page, straight from the API.
async fn api_ids(base: &str, query: &str) -> Vec<String> {
    let body: Json = reqwest::get(format!("{base}/jsonapi/entries?{query}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Clicks what `target` finds, then waits until `ready` finds something on the new page.
async fn click_and_wait(client: &Client, target: Locator<'_>, ready: Locator<'_>) {
    client.find(target).await.unwrap().click().await.unwrap();
    client.wait().for_element(ready).await.unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    let _ = writeln!(std::io::stderr(), "screenshot: {}", path.display());
}

#[tokio::test]
async fn next_and_a_column_header_change_the_rows_in_chromium() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--demo", "--demo-size", "500"]);
    let base = server.base.clone();
    let driver = start_driver(&chromedriver).await;
    let client = connect(&driver, &chromium).await;

    // From the collection list to the table.
    client.goto(&format!("{base}/")).await.unwrap();
    click_and_wait(
        &client,
        Locator::Css("a[href='/browse/entries']"),
        Locator::Css("td.id a"),
    )
    .await;
    let first = shown_ids(&client).await;
    assert_eq!(first, api_ids(&base, "page[number]=1").await);
    assert_eq!(first.len(), 25);
    screenshot(&client, "browse-page-1").await;

    // Next: the following 25 records in id order.
    click_and_wait(
        &client,
        Locator::LinkText("Next ›"),
        Locator::XPath("//span[@class='current' and text()='2']"),
    )
    .await;
    let second = shown_ids(&client).await;
    assert_eq!(second, api_ids(&base, "page[number]=2").await);
    assert!(second[0] > first[24], "page 2 starts after page 1 ends");
    screenshot(&client, "browse-page-2").await;

    // A column header sorts by it, from page 1; a second click reverses it.
    click_and_wait(
        &client,
        Locator::Css("th a[data-path='provider']"),
        Locator::XPath("//a[@data-path='provider' and contains(., '▲')]"),
    )
    .await;
    let ascending = shown_ids(&client).await;
    assert_eq!(ascending, api_ids(&base, "sort=provider").await);
    assert_ne!(ascending, first);
    click_and_wait(
        &client,
        Locator::Css("th a[data-path='provider']"),
        Locator::XPath("//a[@data-path='provider' and contains(., '▼')]"),
    )
    .await;
    assert_eq!(shown_ids(&client).await, api_ids(&base, "sort=-provider").await);
    screenshot(&client, "browse-sorted").await;

    // The API reference renders from the binary alone, with an operation of every style.
    client.goto(&format!("{base}/docs")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("[id^='operations-jsonapi-jsonapi_list_entries']"))
        .await
        .unwrap();
    for tag in ["jsonapi", "hal", "query", "simple"] {
        client
            .find(Locator::Css(&format!("[data-tag='{tag}']")))
            .await
            .unwrap_or_else(|e| panic!("no {tag} section in /docs: {e}"));
    }
    screenshot(&client, "docs").await;

    client.close().await.unwrap();
    drop(driver);
    drop(server);
}
