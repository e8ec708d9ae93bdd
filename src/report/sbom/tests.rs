use std::time::Duration;

use serde_json::Value;

use super::{document, pypi_purl, write_sboms};
use crate::builder::{InstalledWheel, Protections};
use crate::distribution::{SafeFilename, Sha256};
use crate::package_settings::BuildSettings;
use crate::report::provenance::{BuildInfo, CrateInfo, InterpreterInfo, SourceFile, WheelFile};

fn safe_url(text: &str) -> crate::index::SafeUrl {
    crate::index::SafeUrl::new(&url::Url::parse(text).unwrap())
}

fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

fn built() -> BuildInfo {
    BuildInfo {
        sandbox: "bwrap".into(),
        protections: Protections {
            network: crate::builder::NetworkProtection::Namespace,
            filesystem: crate::builder::FilesystemProtection::Namespace,
            pid_namespace: true,
            process_budget: crate::builder::ProcessBudget::PerBuild,
            limits: "rlimits".into(),
        },
        sdist: Some(SourceFile {
            filename: SafeFilename::new("ww_rust-1.0+local.tar.gz").unwrap(),
            sha256: Sha256::new(&sha('a')).unwrap(),
            url: safe_url("https://devpi.example.org/root/pypi/+f/ww_rust-1.0+local.tar.gz"),
        }),
        environment: vec![
            InstalledWheel {
                filename: "maturin-1.8.0-py3-none-manylinux_2_17_x86_64.whl".into(),
                sha256: sha('b'),
            },
            InstalledWheel {
                filename: "Setuptools_Rust-1.10.0-py3-none-any.whl".into(),
                sha256: sha('c'),
            },
        ],
        settings: BuildSettings::default(),
        interpreter: InterpreterInfo {
            label: "cp311".into(),
            path: "/opt/python/bin/python3.11".into(),
            version: "3.11.9".into(),
        },
        source_date_epoch: Some(1_709_164_800),
        duration: Duration::from_millis(1500),
        wheel: Some(WheelFile {
            filename: SafeFilename::new("ww_rust-1.0+local-cp311-cp311-linux_x86_64.whl").unwrap(),
            sha256: Sha256::new(&sha('d')).unwrap(),
        }),
        crates: vec![CrateInfo {
            name: "libc".into(),
            version: "0.2.150".into(),
            sha256: sha('e'),
        }],
        missing: None,
        log: None,
        schedule: None,
    }
}

fn by_id<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == id)
        .unwrap_or_else(|| panic!("no package {id} in {doc:#}"))
}

#[test]
fn the_document_has_the_required_spdx_2_3_fields() {
    let doc = document("ww-rust", "1.0+local", &built());
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(
        doc["name"],
        "ww_rust-1.0+local-cp311-cp311-linux_x86_64.whl"
    );
    assert_eq!(doc["creationInfo"]["created"], "2024-02-29T00:00:00Z");
    assert_eq!(
        doc["creationInfo"]["creators"][0],
        format!("Tool: wheelwright-{}", env!("CARGO_PKG_VERSION"))
    );
    let namespace = doc["documentNamespace"].as_str().unwrap();
    assert!(namespace.starts_with("https://"), "{namespace}");
    assert!(
        !namespace.contains('#') && !namespace.contains('+'),
        "{namespace}"
    );
    assert!(namespace.ends_with(&sha('d')), "{namespace}");
    for p in doc["packages"].as_array().unwrap() {
        for key in ["SPDXID", "name", "downloadLocation", "filesAnalyzed"] {
            assert!(p.get(key).is_some(), "{key} missing in {p}");
        }
        assert!(p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-"));
    }
}

#[test]
fn packages_carry_checksums_purls_and_versions() {
    let doc = document("ww-rust", "1.0+local", &built());
    let wheel = by_id(&doc, "SPDXRef-Package-wheel");
    assert_eq!(wheel["versionInfo"], "1.0+local");
    assert_eq!(wheel["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(wheel["checksums"][0]["checksumValue"], sha('d'));
    assert_eq!(
        wheel["externalRefs"][0]["referenceLocator"],
        "pkg:pypi/ww-rust@1.0%2Blocal?file_name=ww_rust-1.0%2Blocal-cp311-cp311-linux_x86_64.whl"
    );
    let sdist = by_id(&doc, "SPDXRef-Package-sdist");
    assert_eq!(sdist["checksums"][0]["checksumValue"], sha('a'));
    assert_eq!(
        sdist["downloadLocation"],
        "https://devpi.example.org/root/pypi/+f/ww_rust-1.0+local.tar.gz"
    );
    assert!(sdist.get("sourceInfo").is_none(), "{sdist}");
    let env = by_id(&doc, "SPDXRef-Package-env-2-setuptools-rust");
    assert_eq!(env["name"], "setuptools-rust");
    assert_eq!(env["versionInfo"], "1.10.0");
    assert_eq!(env["checksums"][0]["checksumValue"], sha('c'));
    let krate = by_id(&doc, "SPDXRef-Package-crate-1-libc");
    assert_eq!(
        krate["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/libc@0.2.150"
    );
    assert_eq!(krate["checksums"][0]["checksumValue"], sha('e'));
}

#[test]
fn relationships_tie_the_wheel_to_its_sdist_environment_and_crates() {
    let doc = document("ww-rust", "1.0+local", &built());
    let rels: Vec<(String, String, String)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_string(),
                r["relationshipType"].as_str().unwrap().to_string(),
                r["relatedSpdxElement"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |a: &str, k: &str, b: &str| rels.contains(&(a.into(), k.into(), b.into()));
    assert!(has(
        "SPDXRef-DOCUMENT",
        "DESCRIBES",
        "SPDXRef-Package-wheel"
    ));
    assert!(has(
        "SPDXRef-Package-wheel",
        "GENERATED_FROM",
        "SPDXRef-Package-sdist"
    ));
    assert!(has(
        "SPDXRef-Package-env-1-maturin",
        "BUILD_DEPENDENCY_OF",
        "SPDXRef-Package-wheel"
    ));
    assert!(has(
        "SPDXRef-Package-crate-1-libc",
        "DEPENDENCY_OF",
        "SPDXRef-Package-wheel"
    ));
    assert_eq!(rels.len(), 5);
}

#[test]
fn a_local_sdist_has_no_download_location_and_no_crates_means_no_crate_packages() {
    let mut build = built();
    build.crates.clear();
    if let Some(sdist) = &mut build.sdist {
        sdist.url = safe_url("file:///srv/dists/ww_rust-1.0+local.tar.gz");
    }
    let doc = document("ww-rust", "1.0+local", &build);
    let sdist = by_id(&doc, "SPDXRef-Package-sdist");
    assert_eq!(sdist["downloadLocation"], "NOASSERTION");
    assert_eq!(
        sdist["sourceInfo"],
        "downloaded from file:///srv/dists/ww_rust-1.0+local.tar.gz"
    );
    assert_eq!(doc["packages"].as_array().unwrap().len(), 4);
    // An address the SPDX validator does not take as a URL (no domain name) goes the same way.
    for url in [
        "http://127.0.0.1:3141/root/pypi/+f/x.tar.gz",
        "http://localhost:3141/x.tar.gz",
    ] {
        if let Some(sdist) = &mut build.sdist {
            sdist.url = safe_url(url);
        }
        let doc = document("ww-rust", "1.0+local", &build);
        let sdist = by_id(&doc, "SPDXRef-Package-sdist");
        assert_eq!(sdist["downloadLocation"], "NOASSERTION", "{url}");
        assert_eq!(sdist["sourceInfo"], format!("downloaded from {url}"));
    }
}

#[test]
fn the_same_build_gives_the_same_bytes() {
    let a = serde_json::to_string(&document("ww-rust", "1.0", &built())).unwrap();
    let b = serde_json::to_string(&document("ww-rust", "1.0", &built())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn purl_names_are_normalised_and_components_encoded() {
    assert_eq!(
        pypi_purl("Foo__Bar.baz", "2.0", "Foo_Bar-2.0.tar.gz"),
        "pkg:pypi/foo-bar-baz@2.0?file_name=Foo_Bar-2.0.tar.gz"
    );
}

#[test]
fn one_document_per_built_wheel_in_the_directory() {
    use crate::plan::{Chosen, Decision, Job, JobFile};
    use crate::report::{JobResult, Outcome};
    let job = |interpreter: &str| Job {
        project: "ww-rust".parse().unwrap(),
        requirement: "ww-rust".into(),
        origin: "r.txt:1".into(),
        interpreter: crate::interpreter::test_labelled(interpreter),
        decision: Decision::Build(Chosen {
            version: "1.0+local".parse().unwrap(),
            file: JobFile {
                filename: SafeFilename::new("ww_rust-1.0+local.tar.gz").unwrap(),
                url: safe_url("https://devpi.example.org/root/pypi/+f/ww_rust-1.0+local.tar.gz"),
                sha256: None,
                size: None,
            },
        }),
        reason: String::new(),
        via: Vec::new(),
        settings: Default::default(),
        entry: 0,
    };
    let mut results = Vec::new();
    for interpreter in ["cp311", "cp312"] {
        let mut r = JobResult::new(job(interpreter), Outcome::Built, "");
        r.build = Some(built());
        results.push(r);
    }
    let mut unbuilt = JobResult::new(job("cp313"), Outcome::Failed, "build failed");
    unbuilt.build = Some(BuildInfo {
        wheel: None,
        ..built()
    });
    results.push(unbuilt);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sbom");
    let written = write_sboms(&out, &results).unwrap();
    assert_eq!(
        written,
        vec![out.join("ww_rust-1.0+local-cp311-cp311-linux_x86_64.whl.spdx.json")]
    );
    let text = std::fs::read_to_string(&written[0]).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
}
