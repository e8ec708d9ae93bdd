//! A URL that cannot carry credentials: user name and password are removed when it is made,
//! so it may be shown in a log, a report or an error message as it is.

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

#[cfg(test)]
mod tests {
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
