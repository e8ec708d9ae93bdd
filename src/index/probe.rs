//! Is an upstream source usable at all? Each source is asked once, before its first
//! listing, so that an index that does not exist (404) or refuses the credentials (401/403)
//! stops the run (exit 3) naming it, instead of every project being planned as "not on
//! upstream". Directories are checked up front by the caller (a missing one is bad input);
//! find-links pages are fetched whole on first use, which is their check.

use url::Url;

use super::error::IndexError;
use super::http::{HttpClient, status_error};
use super::safe_url::redact;
use super::simple::SIMPLE_ACCEPT;
use super::upstream_source::Source;

const JSON: &str = "application/json";

/// One request per source. For a devpi `+simple` base the stage's `+api` is asked (a mirror's
/// full simple page can be the size of the whole mirrored index); for any other simple index
/// its root page, whose body is not read (only the status matters).
///
/// Returns devpi's `X-Devpi-Serial` when the source is a devpi stage that sent one: the
/// serial of the server's whole database, which moves on any change (see
/// [`super::Upstream::state`]).
pub(super) async fn check_source(
    source: &Source,
    client: &HttpClient,
) -> Result<Option<u64>, IndexError> {
    match source {
        Source::Simple { base } => {
            let api = devpi_api_url(base);
            let (url, accept) = match &api {
                Some(api) => (api.clone(), JSON),
                None => (base.clone(), SIMPLE_ACCEPT),
            };
            let response = client.get(&url, accept).await?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Err(IndexError::NotAnIndex {
                    url: redact(base),
                    expected: "an upstream index",
                    detail: "no such index (HTTP 404)".into(),
                });
            }
            if !status.is_success() {
                // Named by the URL the user gave, not the probe's.
                return Err(status_error(base, response).await);
            }
            Ok(api.and_then(|_| super::devpi::serial_header(response.headers())))
        }
        Source::Devpi { index, .. } => index.api(client).await.map(|info| info.serial),
        Source::Directory { .. } | Source::Page { .. } => Ok(None),
    }
}

/// `http://h/[prefix/]user/index/+simple/` → `http://h/[prefix/]user/index/+api`.
pub(super) fn devpi_api_url(base: &Url) -> Option<Url> {
    let segments: Vec<&str> = base.path_segments()?.filter(|s| !s.is_empty()).collect();
    let pos = segments.iter().position(|s| *s == "+simple")?;
    if pos < 2 || pos + 1 != segments.len() {
        return None;
    }
    let mut api = base.clone();
    api.set_path(&format!("/{}/+api", segments[..pos].join("/")));
    api.set_query(None);
    api.set_fragment(None);
    Some(api)
}

/// The remembered result of a failed check, for every later caller.
pub(super) fn replay(error: &IndexError) -> IndexError {
    match error {
        IndexError::Unauthorized { url, status, hint } => IndexError::Unauthorized {
            url: url.clone(),
            status: *status,
            hint: hint.clone(),
        },
        IndexError::NotAnIndex {
            url,
            expected,
            detail,
        } => IndexError::NotAnIndex {
            url: url.clone(),
            expected,
            detail: detail.clone(),
        },
        IndexError::Status {
            url,
            status,
            message,
        } => IndexError::Status {
            url: url.clone(),
            status: *status,
            message: message.clone(),
        },
        IndexError::Unreachable {
            url,
            detail,
            failure,
        } => IndexError::Unreachable {
            url: url.clone(),
            detail: detail.clone(),
            failure: *failure,
        },
        IndexError::Down {
            url,
            failures,
            detail,
        } => IndexError::Down {
            url: url.clone(),
            failures: *failures,
            detail: detail.clone(),
        },
        IndexError::Tls { url, detail } => IndexError::Tls {
            url: url.clone(),
            detail: detail.clone(),
        },
        other => IndexError::BadResponse {
            url: "an upstream index".into(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devpi_simple_bases_are_probed_through_their_api() {
        let api = |s: &str| devpi_api_url(&Url::parse(s).unwrap()).map(|u| u.to_string());
        assert_eq!(
            api("http://h:3141/root/corp-mirror/+simple/").as_deref(),
            Some("http://h:3141/root/corp-mirror/+api")
        );
        assert_eq!(
            api("https://h/devpi/team/dev/+simple").as_deref(),
            Some("https://h/devpi/team/dev/+api")
        );
        assert_eq!(api("http://h:8080/simple/"), None);
        assert_eq!(api("http://h/+simple/"), None, "no stage before +simple");
        assert_eq!(api("http://h/u/i/+simple/six/"), None, "a project page");
    }

    #[test]
    fn a_replayed_error_says_the_same() {
        let original = IndexError::NotAnIndex {
            url: "http://h/u/nope/+simple/".into(),
            expected: "an upstream index",
            detail: "no such index (HTTP 404)".into(),
        };
        assert_eq!(replay(&original).to_string(), original.to_string());
    }
}
