//! The browse pages: HTML for browsers at `/`, the table at `/browse/{collection}`, its
//! navigation, escaping, errors, and the API requests it shows for its page, each of which is
//! run here and must return the records the table shows.

use serde_json::Value as Json;

use crate::server::{MAX_OFFSET, server};

/// A page fetched as a browser fetches it.
struct Page {
    status: u16,
    media: String,
    html: String,
}

async fn browse(path: &str) -> Page {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server().base))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    Page {
        status: response.status().as_u16(),
        media: response.headers()["content-type"].to_str().unwrap().to_owned(),
        html: response.text().await.unwrap(),
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The ids in the table, in order.
fn table_ids(html: &str) -> Vec<String> {
    html.match_indices("<td class=\"id\"><a href=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            let text = &rest[rest.find('>').unwrap() + 1..];
            unescape(&text[..text.find("</a>").unwrap()])
        })
        .collect()
}

/// The `href` of the navigation link labelled `label`, if it is a link.
fn nav_link(html: &str, label: &str) -> Option<String> {
    let end = html.find(&format!("\">{label}</a>"))?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(unescape(&html[start..end]))
}

/// The `curl` command shown for `style`, or `None` with the page's reason.
fn curl_of(html: &str, style: &str) -> Result<String, String> {
    let marker = format!("id=\"curl-{style}\" data-style=\"{style}\">");
    match html.find(&marker) {
        Some(i) => {
            let rest = &html[i + marker.len()..];
            Ok(unescape(&rest[..rest.find("</pre>").unwrap()]))
        }
        None => {
            let marker = format!("<p data-style=\"{style}\">");
            let i = html
                .find(&marker)
                .unwrap_or_else(|| panic!("nothing shown for {style}"));
            let rest = &html[i + marker.len()..];
            Err(unescape(&rest[..rest.find("</p>").unwrap()]))
        }
    }
}

/// Splits a command into words as a POSIX shell does with single quotes.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if !quoted => {}
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// Runs a `curl` command the page shows and returns the ids of the records it answers with.
async fn run_curl(style: &str, command: &str) -> Vec<String> {
    let words = shell_words(command);
    assert_eq!(words[0], "curl", "{command}");
    let url = words.iter().find(|w| w.starts_with("http://")).unwrap();
    assert!(url.starts_with(&server().base), "{url} is not this server");
    let client = reqwest::Client::new();
    let request = match words.iter().position(|w| w == "-d") {
        Some(i) => client
            .post(url)
            .header("content-type", "application/json")
            .body(words[i + 1].clone()),
        None => client.get(url),
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{command}");
    let body: Json = response.json().await.unwrap();
    crate::styles::ids_of(style, &body)
}

/// Checks that every style with a request returns the table's records, and that the styles
/// in `none` say why they have none.
async fn check_equivalents(path: &str, none: &[&str]) -> Page {
    let page = browse(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.html);
    let ids = table_ids(&page.html);
    assert!(!ids.is_empty(), "{path}: empty table");
    for style in ["jsonapi", "hal", "query", "simple"] {
        match curl_of(&page.html, style) {
            Ok(command) => {
                assert!(!none.contains(&style), "{path}: {style} has {command}");
                assert_eq!(run_curl(style, &command).await, ids, "{path}: {style}: {command}");
            }
            Err(why) => assert!(none.contains(&style), "{path}: {style}: {why}"),
        }
    }
    page
}

#[tokio::test]
async fn browsers_get_html_and_clients_json_at_the_root() {
    let page = browse("/").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.media, "text/html; charset=utf-8");
    assert!(page.html.contains("href=\"/browse/entries\""), "{}", page.html);
    assert!(page.html.contains("1500"), "the record count");
    let json: Json = reqwest::get(format!("{}/", server().base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["collections"], "/jsonapi");
    assert_eq!(json["docs"], "/docs");
}

#[tokio::test]
async fn page_numbers_and_filters_show_the_same_records_in_every_style() {
    check_equivalents("/browse/entries?page[size]=7&page[number]=3", &[]).await;
    check_equivalents(
        "/browse/entries?filter[provider]=aflow&filter[results.material.n_elements][gte]=3&page[size]=5&page[number]=2",
        &[],
    )
    .await;
    check_equivalents(
        "/browse/entries?filter[results.material.elements][any]=O,Ti&filter=%7B%22not%22%3A%7B%22provider%22%3A%22aflow%22%7D%7D&page[size]=4",
        &[],
    )
    .await;
    // Empty filter inputs, as a form sends them, are no filters.
    let page = check_equivalents("/browse/entries?filter[provider]=&filter[upload_id]=&page[size]=3", &[]).await;
    assert!(page.html.contains("1,500 matching records"), "{}", page.html);
}

#[tokio::test]
async fn sorted_pages_have_requests_only_in_styles_that_sort() {
    let page = check_equivalents(
        "/browse/entries?sort=-upload_create_time&page[size]=4",
        &["hal", "simple"],
    )
    .await;
    assert!(curl_of(&page.html, "hal").unwrap_err().contains("id order only"));
}

/// The link of the column header of `path`.
fn header_link(html: &str, path: &str) -> String {
    let i = html.find(&format!("data-path=\"{path}\"")).unwrap();
    let start = html[..i].rfind("href=\"").unwrap() + 6;
    let end = start + html[start..].find('"').unwrap();
    unescape(&html[start..end])
}

#[tokio::test]
async fn clicking_a_header_sorts_and_clicking_again_reverses() {
    let page = browse("/browse/entries?page[size]=5").await;
    let ascending = browse(&header_link(&page.html, "provider")).await;
    assert!(ascending.html.contains("provider ▲"));
    let again = header_link(&ascending.html, "provider");
    assert!(again.contains("sort=-provider"), "{again}");
    let descending = browse(&again).await;
    assert!(descending.html.contains("provider ▼"));
    let reference: Json = reqwest::get(format!("{}/jsonapi/entries?sort=-provider&page[size]=5", server().base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected: Vec<String> = reference["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(table_ids(&descending.html), expected);
}

#[tokio::test]
async fn past_the_offset_window_pages_go_on_with_cursors() {
    let size = 100;
    let last_numbered = MAX_OFFSET / size;
    let page = check_equivalents(
        &format!("/browse/entries?page[size]={size}&page[number]={last_numbered}"),
        &[],
    )
    .await;
    // No page number past the window is offered; the note says why.
    assert!(
        !page.html.contains(&format!(">{}</a>", last_numbered + 1)),
        "{}",
        page.html
    );
    assert!(page.html.contains("class=\"note\""));
    let next = nav_link(&page.html, "Next ›").unwrap();
    assert!(next.contains("page%5Bcursor%5D="), "{next}");

    // The next page, reached with a cursor: every style pages forward from a record.
    let deep = check_equivalents(&next, &[]).await;
    assert!(deep.html.contains("reached with a cursor"));
    assert!(deep.html.contains("class=\"note\""));
    assert!(
        !deep.html.contains("class=\"current\""),
        "no page numbers past the window"
    );
    let first_ids = table_ids(&page.html);
    let deep_ids = table_ids(&deep.html);
    assert!(deep_ids[0] > *first_ids.last().unwrap(), "next moved on");

    // Previous goes back: styles that only move forwards say so.
    let prev = nav_link(&deep.html, "‹ Previous").unwrap();
    let back = check_equivalents(&prev, &["hal", "query"]).await;
    assert_eq!(table_ids(&back.html), first_ids);

    // Last is the end of the collection, from its end.
    let last = nav_link(&deep.html, "Last »").unwrap();
    let end = check_equivalents(&last, &["hal", "query"]).await;
    assert!(nav_link(&end.html, "Next ›").is_none());
    // First returns to page numbers.
    let first = nav_link(&end.html, "« First").unwrap();
    assert!(first.contains("page%5Bnumber%5D=1"), "{first}");
}

#[tokio::test]
async fn text_from_requests_and_records_is_escaped() {
    let page = browse("/browse/entries?filter[provider]=%3Cscript%3Ealert(1)%3C/script%3E&page[size]=2").await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("<script>alert"), "{}", page.html);
    assert!(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn errors_are_pages_with_the_reason_and_status() {
    let page = browse("/browse/entries?page[size]=5000").await;
    assert_eq!(page.status, 422);
    assert_eq!(page.media, "text/html; charset=utf-8");
    assert!(
        page.html.contains("class=\"error\"") && page.html.contains("page[size]"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("<form class=\"filters\""),
        "the filters stay to fix the request"
    );
    let page = browse("/browse/entries?filter[results.material.n_elements][gte]=many").await;
    assert_eq!(page.status, 400);
    assert!(page.html.contains("many"));
    let page = browse("/browse/nothing").await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("nothing"));
}
