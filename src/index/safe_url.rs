//! A URL that cannot carry credentials: user name and password are removed when it is made,
//! so it may be shown in a log, a report or an error message as it is. Beside it, the
//! redaction of what is not yet a `SafeUrl` (a URL value, a spec that may not parse, free text
//! such as a requirement line): the one path by which credentials leave printed text.

use std::fmt;

use url::Url;

/// A URL without userinfo. The only way to make one strips `user:password@`, so a value of
/// this type never holds a secret; it serialises and displays as the URL's text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SafeUrl(Url);

impl SafeUrl {
    /// `url` without its user name and password.
    pub fn new(url: &Url) -> SafeUrl {
        if url.username().is_empty() && url.password().is_none() {
            return SafeUrl(url.clone());
        }
        let mut clean = url.clone();
        // Only URLs that cannot have a host refuse these, and they carry no userinfo.
        let _ = clean.set_username("");
        let _ = clean.set_password(None);
        SafeUrl(clean)
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&Url> for SafeUrl {
    fn from(url: &Url) -> SafeUrl {
        SafeUrl::new(url)
    }
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl serde::Serialize for SafeUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

// Redaction of text that is not (yet) a URL value.

/// The URL as text with user name and password removed (through [`SafeUrl`], the one place
/// that strips them).
pub fn redact(url: &Url) -> String {
    SafeUrl::new(url).to_string()
}

/// Like [`redact`] for a string that may or may not parse as a URL; unparsable text is
/// cut at the last `@` before the host part so a malformed `user:pw@host` is still hidden.
pub fn redact_str(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redact(&url),
        Err(_) => match (text.find("://"), text.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                format!("{}{}", &text[..scheme_end + 3], &text[at + 1..])
            }
            _ => text.to_string(),
        },
    }
}

/// Removes the userinfo of every `scheme://user:password@host` inside free text (a
/// requirement line, an error message), so a credential written into a requirements file
/// never reaches a report or a log.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#` or whitespace.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Splits the userinfo off a URL: the clean URL plus `(user, password)` if any was given.
pub fn split_credentials(url: &Url) -> (Url, Option<(String, String)>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let user = percent_decode(url.username());
    let password = url.password().map(percent_decode).unwrap_or_default();
    (SafeUrl::new(url).0, Some((user, password)))
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {

    #[test]
    fn strips_userinfo() {
        let url = Url::parse("https://alice:s3cret@devpi.example/alice/dev/").unwrap();
        assert_eq!(redact(&url), "https://devpi.example/alice/dev/");
        assert_eq!(
            redact_str("https://alice:s3cret@devpi.example/x"),
            "https://devpi.example/x"
        );
        assert_eq!(redact_str("htt://a:b@[bad"), "htt://[bad");
        let (clean, creds) = split_credentials(&url);
        assert_eq!(clean.as_str(), "https://devpi.example/alice/dev/");
        assert_eq!(creds, Some(("alice".into(), "s3cret".into())));
    }

    #[test]
    fn strips_userinfo_inside_text() {
        assert_eq!(
            redact_text(
                "foo @ https://u:s3cret@h/x.whl ; python_version>'3' and git+ssh://git@gh/r"
            ),
            "foo @ https://h/x.whl ; python_version>'3' and git+ssh://gh/r"
        );
        assert_eq!(redact_text("no urls here"), "no urls here");
        assert_eq!(
            redact_text("http://h:8080/a@b"),
            "http://h:8080/a@b",
            "an @ in the path stays"
        );
    }

    #[test]
    fn decodes_percent_escapes_in_credentials() {
        let url = Url::parse("https://a%40b:p%2Fw@h/").unwrap();
        let (_, creds) = split_credentials(&url);
        assert_eq!(creds, Some(("a@b".into(), "p/w".into())));
    }

    use super::*;

    #[test]
    fn strips_userinfo_when_made() {
        let url = Url::parse("https://alice:s3cret@devpi.example/alice/dev/x-1.whl").unwrap();
        let safe = SafeUrl::new(&url);
        assert_eq!(safe.to_string(), "https://devpi.example/alice/dev/x-1.whl");
        assert_eq!(safe.as_url().password(), None);
        assert_eq!(safe.as_url().username(), "");
        assert_eq!(
            serde_json::to_string(&safe).unwrap(),
            "\"https://devpi.example/alice/dev/x-1.whl\""
        );
        let token = Url::parse("https://token@h/x").unwrap();
        assert_eq!(SafeUrl::new(&token).as_str(), "https://h/x");
        let local = Url::parse("file:///srv/wheels/x-1.whl").unwrap();
        assert_eq!(SafeUrl::new(&local).as_str(), "file:///srv/wheels/x-1.whl");
    }

    #[test]
    fn shows_the_same_text_as_redact() {
        for text in [
            "https://u:p@h:8080/a/b?c=d",
            "http://h/simple/x/x-1.tar.gz",
            "https://u@h/",
        ] {
            let url = Url::parse(text).unwrap();
            assert_eq!(SafeUrl::new(&url).to_string(), super::super::redact(&url));
        }
    }
}
