//! The web UI: a live push inbox served by the admin listener at `/`, for people (the JSON API
//! stays under `/api/v1/`).
//!
//! Hand-written HTML, CSS and ES modules from `mock-apns/ui/`, embedded in the binary: nothing
//! to build, nothing fetched at run time, so it works offline. Every answer carries a
//! Content-Security-Policy that allows only the mock's own scripts and styles (no inline script,
//! no `eval`, nothing from elsewhere, no framing); the scripts put every value from a push into
//! the page as text, never as markup.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};

use super::plumbing::{error, Reply};

/// The policy every UI answer carries. Styles set from script (`element.style`) go through the
/// CSSOM, which `style-src 'self'` allows.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($( $path:literal => $file:literal, $type:expr; )+) => {
        &[$( Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $file)),
        }, )+]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = assets! {
    "/" => "index.html", "text/html; charset=utf-8";
    "/ui/style.css" => "style.css", "text/css; charset=utf-8";
    "/ui/favicon.svg" => "favicon.svg", "image/svg+xml";
    "/ui/app.js" => "app.js", JS;
    "/ui/js/api.js" => "js/api.js", JS;
    "/ui/js/dom.js" => "js/dom.js", JS;
    "/ui/js/format.js" => "js/format.js", JS;
    "/ui/js/inbox.js" => "js/inbox.js", JS;
    "/ui/js/detail.js" => "js/detail.js", JS;
    "/ui/js/preview.js" => "js/preview.js", JS;
    "/ui/js/panels.js" => "js/panels.js", JS;
};

/// The UI file at `path`, if there is one.
pub(super) fn asset(path: &str) -> Option<Reply> {
    let path = if path == "/index.html" { "/" } else { path };
    let asset = ASSETS.iter().find(|a| a.path == path)?;
    let mut response = Response::new(Full::new(Bytes::from_static(asset.body)).boxed());
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Small files, always fresh after an upgrade: revalidating costs nothing on loopback.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

/// A path outside `/api/` that is no UI file.
pub(super) fn not_found(path: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        format!("no page {path}; the web UI is at / and the admin API under /api/v1/"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        for asset in ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js") || a.path == "/")
        {
            let text = std::str::from_utf8(asset.body).unwrap();
            for import in text
                .split(['"', '\''])
                .filter(|s| s.starts_with("./") && s.ends_with(".js") || s.starts_with("/ui/"))
            {
                let base = asset.path.rsplit_once('/').map_or("", |(dir, _)| dir);
                let resolved = match import.strip_prefix("./") {
                    Some(rel) => format!("{base}/{rel}"),
                    None => import.to_owned(),
                };
                assert!(
                    ASSETS.iter().any(|a| a.path == resolved),
                    "{} refers to {import} ({resolved}), which is not embedded",
                    asset.path
                );
            }
        }
    }

    #[test]
    fn the_page_runs_no_inline_script() {
        let page = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert!(!page.contains("<script>"), "an inline script");
        let handler = page.split(" on").skip(1).find(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(handler.is_none(), "an inline handler: on{handler:?}");
        assert!(!CSP.contains("unsafe"));
    }
}
