//! Listings to candidates: tags, Requires-Python, yanked files, sdists.

use std::str::FromStr;

use url::Url;

use super::memory::{name, version};
use crate::distribution::TagSet;
use crate::index::IndexFile;
use crate::resolve::listing::{Fit, candidates};

fn file(filename: &str, requires_python: Option<&str>, yanked: bool) -> IndexFile {
    IndexFile {
        filename: crate::distribution::SafeFilename::new(filename).expect("safe filename"),
        url: Url::from_str(&format!("https://index.example.invalid/files/{filename}"))
            .expect("valid URL"),
        sha256: None,
        size: None,
        upload_time: None,
        requires_python: requires_python.map(str::to_string),
        yanked: yanked.then(String::new),
        stage: None,
        metadata_file: crate::index::MetadataFile::NotOffered,
    }
}

fn shown(files: &[IndexFile], sdists: bool) -> Vec<String> {
    let tags = TagSet::from_strings(["cp312-cp312-manylinux_2_17_x86_64", "py3-none-any"])
        .expect("valid tags");
    let python = version("3.12.4");
    let fit = Fit {
        tags: &tags,
        python_full_version: &python,
        sdists,
    };
    candidates(files, &name("lib"), &fit)
        .into_iter()
        .map(|c| format!("{}{}", c.version, if c.yanked { " (yanked)" } else { "" }))
        .collect()
}

#[test]
fn only_versions_with_a_usable_file() {
    let files = [
        file("lib-1.0-py3-none-any.whl", None, false),
        file("lib-2.0-cp311-cp311-manylinux_2_17_x86_64.whl", None, false),
        file("lib-3.0-py3-none-any.whl", Some(">=3.13"), false),
        file("lib-3.1-py3-none-any.whl", Some("not a specifier"), false),
        file("lib-4.0.tar.gz", None, false),
        file("other-5.0-py3-none-any.whl", None, false),
        file("lib-docs.zip", None, false),
    ];
    assert_eq!(shown(&files, false), ["1.0", "3.1"]);
    assert_eq!(shown(&files, true), ["1.0", "3.1", "4.0"]);
}

#[test]
fn a_version_is_yanked_only_when_every_usable_file_is() {
    let files = [
        file("lib-1.0-py3-none-any.whl", None, true),
        file("lib-1.0.tar.gz", None, false),
        file("lib-2.0-py3-none-any.whl", None, true),
    ];
    assert_eq!(shown(&files, true), ["1.0", "2.0 (yanked)"]);
    assert_eq!(shown(&files, false), ["1.0 (yanked)", "2.0 (yanked)"]);
}
