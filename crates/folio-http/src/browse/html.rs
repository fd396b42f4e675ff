//! Writing HTML safely: every piece of text and every attribute value goes through [`escape`];
//! only `&'static str` fragments (the page's own markup) are written as they are.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML content and for quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML document being written.
pub(crate) struct Html {
    out: String,
}

impl Html {
    /// A page: the doctype, `<head>` with `title`, the style sheet, and the opening of
    /// `<body>` with the site's navigation.
    pub(crate) fn page(title: &str) -> Html {
        let mut h = Html { out: String::new() };
        h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.element("title", &[], title);
        h.raw(STYLE);
        h.raw("</head><body><nav><a href=\"/\">folio</a> · <a href=\"/docs\">API reference</a> · ");
        h.raw("<a href=\"/openapi.json\">OpenAPI</a></nav><main>");
        h
    }

    /// Writes markup of the page's own (never text from a request or a record).
    pub(crate) fn raw(&mut self, markup: &'static str) {
        self.out.push_str(markup);
    }

    /// Writes text, escaped.
    pub(crate) fn text(&mut self, text: &str) {
        self.out.push_str(&escape(text));
    }

    /// Opens `<tag a="v" ...>`, values escaped.
    pub(crate) fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// Closes `</tag>`.
    pub(crate) fn close(&mut self, tag: &'static str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// `<tag ...>text</tag>`.
    pub(crate) fn element(&mut self, tag: &'static str, attrs: &[(&'static str, &str)], text: &str) {
        self.open(tag, attrs);
        self.text(text);
        self.close(tag);
    }

    /// `<a href="href">text</a>`.
    pub(crate) fn link(&mut self, href: &str, text: &str) {
        self.element("a", &[("href", href)], text);
    }

    /// Ends the page (with its script) and answers with `status`.
    pub(crate) fn finish(mut self, status: StatusCode) -> Response {
        self.raw("</main>");
        self.raw(SCRIPT);
        self.raw("</body></html>\n");
        let mut response = (status, self.out).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
        response
    }
}

const STYLE: &str = "<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
nav{padding:.6em 1.2em;background:#23395d;color:#fff}nav a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1em 1.2em}h1{font-size:1.4em;margin:.2em 0 .4em}
table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:.3em .55em;text-align:left;vertical-align:top;max-width:28em;overflow-wrap:anywhere}
th{background:#eef2f7;white-space:nowrap}td.id{white-space:nowrap}th a{color:inherit}td.null{color:#aaa}
.pager{margin:.8em 0;display:flex;flex-wrap:wrap;gap:.3em;align-items:center}
.pager a,.pager span{padding:.15em .55em;border:1px solid #ccd;border-radius:3px;text-decoration:none;background:#fff}
.pager span.current{background:#23395d;color:#fff}.pager span.off{color:#aaa}
.note{background:#fff8e1;border:1px solid #f0d98a;padding:.5em .8em;margin:.6em 0;max-width:60em}
.error{background:#fdecea;border:1px solid #f5b5ae;padding:.5em .8em;margin:.6em 0;max-width:60em}
form.filters{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:end;margin:.6em 0}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#555}
input,select{font:inherit;padding:.15em .3em}input.num{width:8em}
pre.curl{background:#272822;color:#f8f8f2;padding:.6em .8em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:.3em 0}
.api h3{font-size:1em;margin:.9em 0 .2em}.api p{margin:.2em 0;color:#555}
</style>";

/// The page's only script: copy buttons, and the page-size selector submitting its form.
const SCRIPT: &str = "<script>
document.querySelectorAll('button[data-copy]').forEach(function(b){b.addEventListener('click',function(){
var t=document.getElementById(b.getAttribute('data-copy')).textContent;
navigator.clipboard.writeText(t).then(function(){b.textContent='Copied';});});});
document.querySelectorAll('select[data-submit]').forEach(function(s){s.addEventListener('change',function(){s.form.submit();});});
</script>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let mut h = Html { out: String::new() };
        h.element("td", &[("title", "\"><script>")], "<script>alert(1)</script>");
        assert_eq!(
            h.out,
            "<td title=\"&quot;&gt;&lt;script&gt;\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"
        );
    }
}
