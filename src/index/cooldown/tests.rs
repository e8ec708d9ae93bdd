use std::str::FromStr;

use pep508_rs::PackageName;
use url::Url;

use super::*;
use crate::distribution::SafeFilename;
use crate::index::{IndexFile, MetadataFile};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn dates_and_ages_in_every_documented_form() {
    let day = 86_400;
    for (text, age) in [
        ("7 days", 7 * day),
        ("1 day", day),
        ("48 hours", 2 * day),
        ("2 weeks", 14 * day),
        ("P7D", 7 * day),
        ("P2W", 14 * day),
        ("PT48H", 2 * day),
        ("P1DT12H", day + day / 2),
    ] {
        assert_eq!(
            ExcludeNewer::from_str(text),
            Ok(ExcludeNewer::Age(age)),
            "{text}"
        );
    }
    assert_eq!(
        ExcludeNewer::from_str("2026-12-01"),
        Ok(ExcludeNewer::Before(at("2026-12-01T00:00:00Z")))
    );
    assert_eq!(
        ExcludeNewer::from_str("2026-12-01T12:00:00+02:00"),
        Ok(ExcludeNewer::Before(at("2026-12-01T10:00:00Z")))
    );
    for bad in [
        "",
        "7",
        "seven days",
        "7 fortnights",
        "P",
        "PT",
        "P7X",
        "0 days",
        "-1 days",
        "2026-13-01",
    ] {
        let error = ExcludeNewer::from_str(bad).unwrap_err();
        assert!(
            error.to_string().contains("neither a date"),
            "{bad}: {error}"
        );
    }
    let now = at("2026-12-08T00:00:00Z");
    assert_eq!(
        ExcludeNewer::Age(7 * day).cutoff(now),
        at("2026-12-01T00:00:00Z")
    );
}

fn file(name: &str, uploaded: Option<&str>) -> IndexFile {
    IndexFile {
        filename: SafeFilename::new(name).unwrap(),
        url: Url::parse(&format!("http://h/f/{name}")).unwrap(),
        sha256: None,
        size: None,
        upload_time: uploaded.map(at),
        requires_python: None,
        yanked: None,
        stage: None,
        metadata_file: MetadataFile::NotOffered,
    }
}

fn names(files: &[IndexFile]) -> Vec<&str> {
    files.iter().map(|f| f.filename.as_str()).collect()
}

#[test]
fn a_version_with_any_file_after_the_cutoff_or_undated_is_refused_whole() {
    let now = at("2026-12-08T00:00:00Z");
    let cooldown = Cooldown::new(ExcludeNewer::Age(7 * 86_400), "7 days", now);
    let mut listing = Listing {
        files: vec![
            file("ww_a-1.0.tar.gz", Some("2025-01-01T00:00:00Z")),
            file("ww_a-1.0-py3-none-any.whl", Some("2025-01-02T00:00:00Z")),
            // An old release with a wheel added two days ago: refused whole.
            file("ww_a-2.0.tar.gz", Some("2025-06-01T00:00:00Z")),
            file("ww_a-2.0-py3-none-any.whl", Some("2026-12-06T00:00:00Z")),
            file("ww_a-3.0-py3-none-any.whl", Some("2026-12-05T00:00:00Z")),
            file("ww_a-4.0-py3-none-any.whl", None),
            file("README", None),
        ],
        rejected: Vec::new(),
    };
    let name = PackageName::from_str("ww-a").unwrap();
    let undated = cooldown.apply(&name, "http://h/simple/", &mut listing);
    assert!(undated);
    assert_eq!(
        names(&listing.files),
        ["ww_a-1.0.tar.gz", "ww_a-1.0-py3-none-any.whl", "README"]
    );
    let reasons: Vec<String> = listing.rejected.iter().map(ToString::to_string).collect();
    assert_eq!(
        reasons,
        [
            "http://h/simple/ lists \"ww_a-2.0.tar.gz\": its version has a file uploaded after \
             the cut-off 2026-12-01T00:00:00Z (cooldown 7 days), so the whole version is refused",
            "http://h/simple/ lists \"ww_a-2.0-py3-none-any.whl\": uploaded \
             2026-12-06T00:00:00Z, 2 days ago; cooldown 7 days (files after \
             2026-12-01T00:00:00Z are not used)",
            "http://h/simple/ lists \"ww_a-3.0-py3-none-any.whl\": uploaded \
             2026-12-05T00:00:00Z, 3 days ago; cooldown 7 days (files after \
             2026-12-01T00:00:00Z are not used)",
            "http://h/simple/ lists \"ww_a-4.0-py3-none-any.whl\": the index gives no upload \
             time (PEP 700) for its version; under the cooldown 7 days what cannot be dated is \
             not used",
        ]
    );
    let version = |r: &RejectedEntry| r.version_of(&name).map(|v| v.to_string());
    assert_eq!(version(&listing.rejected[1]).as_deref(), Some("2.0"));
}
