//! `fill --sbom DIR`: one SPDX 2.3 JSON document per wheel built in the run
//! (`<wheel filename>.spdx.json`), from the same facts as the report's `build` object.
//!
//! The document describes the wheel (name, version, sha256, purl `pkg:pypi/...`), the sdist
//! it was GENERATED_FROM, every wheel of the build environment (each a BUILD_DEPENDENCY_OF the
//! wheel) and, for a Rust extension, the crates of its `Cargo.lock` (each a DEPENDENCY_OF the
//! wheel, purl `pkg:cargo/...`; the lock also pins build-only crates, so no stronger
//! relationship is claimed). The creation time is the build's `SOURCE_DATE_EPOCH` and the
//! namespace is derived from the wheel's name and hash, so the same build gives the same
//! bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::json::write_json_atomically;
use super::outcome::JobResult;
use super::provenance::BuildInfo;
use crate::builder::DEFAULT_SOURCE_DATE_EPOCH;
use crate::distribution::WheelFilename;
use crate::index::SafeUrl;

#[derive(Debug, thiserror::Error)]
#[error("cannot write the SBOM {}: {source}", path.display())]
pub(crate) struct SbomError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes one document per built wheel into `dir` (created if missing); returns the paths
/// written. A pure wheel that served several interpreters is written once.
pub(crate) fn write_sboms(dir: &Path, results: &[JobResult]) -> Result<Vec<PathBuf>, SbomError> {
    let mut documents: BTreeMap<String, Value> = BTreeMap::new();
    for result in results {
        let (Some(build), Some(version)) = (&result.build, result.job.version()) else {
            continue;
        };
        if let Some(wheel) = &build.wheel {
            documents
                .entry(wheel.filename.to_string())
                .or_insert_with(|| {
                    document(result.job.project.as_ref(), &version.to_string(), build)
                });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| SbomError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (filename, document) in documents {
        // A SafeFilename has no separators: the join stays inside `dir`.
        let path = dir.join(format!("{filename}.spdx.json"));
        write_json_atomically(&path, &document).map_err(|source| SbomError {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The SPDX 2.3 document of the wheel `build` produced.
pub(crate) fn document(project: &str, version: &str, build: &BuildInfo) -> Value {
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let (wheel_name, wheel_sha256) = match &build.wheel {
        Some(w) => (w.filename.to_string(), w.sha256.to_string()),
        None => (format!("{project}-{version}"), String::new()),
    };
    let wheel_id = "SPDXRef-Package-wheel".to_string();
    packages.push(package(
        &wheel_id,
        project,
        Some(version),
        Some(&wheel_name),
        "NOASSERTION",
        &wheel_sha256,
        &pypi_purl(project, version, &wheel_name),
        "INSTALL",
    ));
    relationships.push(relationship("SPDXRef-DOCUMENT", "DESCRIBES", &wheel_id));
    if let Some(sdist) = &build.sdist {
        let id = "SPDXRef-Package-sdist";
        let filename = sdist.filename.to_string();
        let location = download_location(&sdist.url);
        let mut p = package(
            id,
            project,
            Some(version),
            Some(&filename),
            location.as_deref().unwrap_or("NOASSERTION"),
            &sdist.sha256,
            &pypi_purl(project, version, &filename),
            "SOURCE",
        );
        if location.is_none() {
            p["sourceInfo"] = json!(format!("downloaded from {}", sdist.url));
        }
        packages.push(p);
        relationships.push(relationship(&wheel_id, "GENERATED_FROM", id));
    }
    for (i, wheel) in build.environment.iter().enumerate() {
        let parsed = wheel.filename.parse::<WheelFilename>().ok();
        let name = parsed
            .as_ref()
            .map_or(wheel.filename.clone(), |w| w.name.to_string());
        let version = parsed.as_ref().map(|w| w.version.to_string());
        let id = format!("SPDXRef-Package-env-{}-{}", i + 1, id_part(&name));
        let purl = match &version {
            Some(v) => pypi_purl(&name, v, &wheel.filename),
            None => String::new(),
        };
        packages.push(package(
            &id,
            &name,
            version.as_deref(),
            Some(&wheel.filename),
            "NOASSERTION",
            &wheel.sha256,
            &purl,
            "INSTALL",
        ));
        relationships.push(relationship(&id, "BUILD_DEPENDENCY_OF", &wheel_id));
    }
    for (i, krate) in build.crates.iter().enumerate() {
        let id = format!("SPDXRef-Package-crate-{}-{}", i + 1, id_part(&krate.name));
        let purl = format!(
            "pkg:cargo/{}@{}",
            purl_encode(&krate.name),
            purl_encode(&krate.version)
        );
        packages.push(package(
            &id,
            &krate.name,
            Some(&krate.version),
            None,
            "NOASSERTION",
            &krate.sha256,
            &purl,
            "SOURCE",
        ));
        relationships.push(relationship(&id, "DEPENDENCY_OF", &wheel_id));
    }
    let epoch = build.source_date_epoch.unwrap_or(DEFAULT_SOURCE_DATE_EPOCH);
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": wheel_name,
        "documentNamespace": format!(
            "https://spdx.org/spdxdocs/wheelwright/{}-{}",
            purl_encode(&wheel_name),
            wheel_sha256
        ),
        "creationInfo": {
            "created": iso8601_utc(epoch),
            "creators": [format!("Tool: wheelwright-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[allow(clippy::too_many_arguments)]
fn package(
    id: &str,
    name: &str,
    version: Option<&str>,
    filename: Option<&str>,
    download_location: &str,
    sha256: &str,
    purl: &str,
    purpose: &str,
) -> Value {
    let mut p = json!({
        "SPDXID": id,
        "name": name,
        "downloadLocation": download_location,
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": purpose,
    });
    if let Some(version) = version {
        p["versionInfo"] = json!(version);
    }
    if let Some(filename) = filename {
        p["packageFileName"] = json!(filename);
    }
    if !sha256.is_empty() {
        p["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": sha256}]);
    }
    if !purl.is_empty() {
        p["externalRefs"] = json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": purl,
        }]);
    }
    p
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({"spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to})
}

/// SPDX download locations are network locations with a domain name (the SPDX validator
/// rejects IP addresses and single-label hosts such as `localhost`): anything else, a local
/// file included, is NOASSERTION, and the URL goes into `sourceInfo` instead.
fn download_location(url: &SafeUrl) -> Option<String> {
    let parsed = url.as_url();
    let network = matches!(parsed.scheme(), "http" | "https");
    let named = matches!(parsed.host(), Some(url::Host::Domain(d)) if d.contains('.'));
    (network && named).then(|| url.to_string())
}

/// purl spec, `pypi` type: the PEP 503 normalised name (lowercase, runs of `-_.` as `-`),
/// the version as written, and the file as the `file_name` qualifier.
fn pypi_purl(name: &str, version: &str, filename: &str) -> String {
    let mut normalised = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalised.ends_with('-') {
                normalised.push('-');
            }
        } else {
            normalised.push(c.to_ascii_lowercase());
        }
    }
    format!(
        "pkg:pypi/{}@{}?file_name={}",
        purl_encode(&normalised),
        purl_encode(version),
        purl_encode(filename)
    )
}

/// Percent-encoding of a purl component: everything but ASCII letters, digits and `.-_~`.
fn purl_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SPDX ids allow letters, digits, `.` and `-`.
fn id_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `YYYY-MM-DDThh:mm:ssZ` of seconds since 1970 (proleptic Gregorian calendar, UTC).
fn iso8601_utc(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), counting in 400-year eras of 146 097 days
/// that start on 1 March, so the leap day ends each year.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
