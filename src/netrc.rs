//! `.netrc` credentials (`$NETRC`, else `~/.netrc`), as pip, twine and curl read them:
//! `machine HOST login USER password SECRET`, or `default login ... password ...`.
//! Used only when no user and password are given otherwise.

use std::path::PathBuf;

/// `(login, password)` for `host`, from the first matching `machine` entry, else `default`.
pub(crate) fn lookup(host: &str) -> Option<(String, String)> {
    let path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".netrc")))?;
    parse(&std::fs::read_to_string(path).ok()?, host)
}

pub(crate) fn parse(text: &str, host: &str) -> Option<(String, String)> {
    // Tokens are whitespace-separated; `macdef` bodies run to the next blank line.
    let mut tokens = Vec::new();
    let mut in_macro = false;
    for line in text.lines() {
        if in_macro {
            in_macro = !line.trim().is_empty();
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"macdef") {
            in_macro = true;
            continue;
        }
        tokens.extend(words);
    }
    let mut found: Option<(String, String)> = None;
    let mut default: Option<(String, String)> = None;
    let mut i = 0;
    while i < tokens.len() {
        let (is_default, machine) = match tokens[i] {
            "machine" if i + 1 < tokens.len() => {
                i += 2;
                (false, Some(tokens[i - 1]))
            }
            "default" => {
                i += 1;
                (true, None)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let (mut login, mut password) = (None, None);
        while i + 1 < tokens.len() && !matches!(tokens[i], "machine" | "default") {
            match tokens[i] {
                "login" => login = Some(tokens[i + 1].to_string()),
                "password" => password = Some(tokens[i + 1].to_string()),
                _ => {}
            }
            i += 2;
        }
        let entry = login.zip(password);
        if is_default {
            default = default.or(entry);
        } else if machine == Some(host) && found.is_none() {
            found = entry;
        }
    }
    found.or(default)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn machine_entries_then_default() {
        let text = "machine devpi.example.internal login ci password s3cret\n\
                    macdef init\n  cd /pub\n\n\
                    machine other login o password p\ndefault login anon password guest\n";
        assert_eq!(
            parse(text, "devpi.example.internal"),
            Some(("ci".into(), "s3cret".into()))
        );
        assert_eq!(parse(text, "other"), Some(("o".into(), "p".into())));
        assert_eq!(
            parse(text, "unknown"),
            Some(("anon".into(), "guest".into()))
        );
        assert_eq!(
            parse("machine a login x\n", "a"),
            None,
            "no password, no credentials"
        );
    }
}
