//! The provenance of a built wheel: the report's `build` object (the sdist, every wheel of
//! the build environment, settings, sandbox, interpreter, `SOURCE_DATE_EPOCH`, duration, the
//! wheel) for a real sandboxed build of a fixture through hatchling, and the SPDX 2.3 document
//! `--sbom` writes for it, checked by the SPDX project's own validator (`pyspdxtools`, which
//! scripts/test.sh installs into the test venv).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{fill, fixture_dist, fixtures_dir, sha256_of, test_venv, upstream_wheels_dir};

fn pyspdxtools() -> std::path::PathBuf {
    let tool = test_venv().join("bin").join("pyspdxtools");
    assert!(
        tool.is_file(),
        "{} is missing: run scripts/test.sh (it installs spdx-tools into the test venv)",
        tool.display()
    );
    tool
}

fn validate(document: &Path) {
    let out = Command::new(pyspdxtools())
        .arg("-i")
        .arg(document)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{}: {text}", document.display());
    assert!(
        !text.to_ascii_lowercase().contains("invalid"),
        "{}: {text}",
        document.display()
    );
}

#[test]
fn a_built_wheel_records_its_provenance_and_its_sbom_validates() {
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let sbom = home.path().join("sbom");
    let upstream = upstream_wheels_dir();
    let run = fill(
        home.path(),
        "ww-hatch==1.0\n",
        &[
            "--find-links",
            fixtures_dir().join("dist").to_str().unwrap(),
            "--find-links",
            upstream.to_str().unwrap(),
            "--sandbox",
            "required",
            "--sbom",
            sbom.to_str().unwrap(),
            wheelhouse.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    let job = &run.report["jobs"][0];
    assert_eq!(job["outcome"], "built", "{job}");
    let build = &job["build"];

    // The sdist, as it was built: the fixture's bytes.
    let sdist = &build["sdist"];
    assert_eq!(sdist["filename"], "ww_hatch-1.0.tar.gz", "{build:#}");
    assert_eq!(
        sdist["sha256"],
        sha256_of(&fixture_dist("ww_hatch-1.0.tar.gz")),
        "{build:#}"
    );
    assert!(
        sdist["url"]
            .as_str()
            .unwrap()
            .ends_with("/ww_hatch-1.0.tar.gz"),
        "{build:#}"
    );

    // Every wheel installed for hatchling, each the very file of the wheel source.
    let environment = build["environment"].as_array().unwrap();
    let names: Vec<&str> = environment
        .iter()
        .map(|w| w["filename"].as_str().unwrap())
        .collect();
    for wanted in [
        "hatchling-",
        "packaging-",
        "pathspec-",
        "pluggy-",
        "trove_classifiers-",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(wanted)),
            "{wanted} not in {names:?}"
        );
    }
    for wheel in environment {
        let filename = wheel["filename"].as_str().unwrap();
        let file = upstream.join(filename);
        assert!(
            file.is_file(),
            "{filename} is not in {}",
            upstream.display()
        );
        assert_eq!(wheel["sha256"], sha256_of(&file), "{filename}");
    }

    assert_eq!(build["settings"], serde_json::json!({}), "{build:#}");
    assert!(
        ["bwrap", "builtin"].contains(&build["sandbox"].as_str().unwrap()),
        "{build:#}"
    );
    assert!(build["protections"]["network"].is_string(), "{build:#}");
    let interpreter = &build["interpreter"];
    assert_eq!(interpreter["label"], job["interpreter"], "{build:#}");
    assert!(
        Path::new(interpreter["path"].as_str().unwrap()).is_absolute(),
        "{build:#}"
    );
    // `cp311` runs Python 3.11.x.
    let digits = job["interpreter"]
        .as_str()
        .unwrap()
        .trim_start_matches("cp");
    let (major, minor) = digits.split_at(1);
    assert!(
        interpreter["version"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{major}.{minor}.")),
        "{build:#}"
    );
    let epoch = build["source_date_epoch"].as_u64().unwrap();
    assert!(epoch >= 315_532_800, "{build:#}");
    assert!(build["duration"].as_f64().unwrap() > 0.0, "{build:#}");

    // The wheel it produced, as it lies in the wheelhouse.
    let wheel = build["wheel"]["filename"].as_str().unwrap();
    assert_eq!(wheel, "ww_hatch-1.0-py2.py3-none-any.whl", "{build:#}");
    assert_eq!(
        build["wheel"]["sha256"],
        sha256_of(&wheelhouse.join(wheel)),
        "{build:#}"
    );

    // The SBOM: the same facts, valid SPDX 2.3.
    let document = sbom.join(format!("{wheel}.spdx.json"));
    let spdx: Value = serde_json::from_str(&std::fs::read_to_string(&document).unwrap()).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let packages = spdx["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2 + environment.len(), "{spdx:#}");
    let checksum = |id: &str| {
        packages
            .iter()
            .find(|p| p["SPDXID"] == id)
            .map(|p| p["checksums"][0]["checksumValue"].clone())
            .unwrap_or_else(|| panic!("no {id} in {spdx:#}"))
    };
    assert_eq!(checksum("SPDXRef-Package-wheel"), build["wheel"]["sha256"]);
    assert_eq!(checksum("SPDXRef-Package-sdist"), sdist["sha256"]);
    let created = spdx["creationInfo"]["created"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");
    validate(&document);
    // The report's sha256 above is that of the wheel with its own document in.
    the_wheel_carries_its_sbom(home.path(), &wheelhouse.join(wheel));
}

/// PEP 770: the wheel itself carries the SPDX document of its build, listed in RECORD. Read
/// out of the wheel by Python's `zipfile`, it validates with `pyspdxtools`; every RECORD row
/// matches its member; and pip installs the wheel (the document lands in the installed
/// `.dist-info/sboms/`).
fn the_wheel_carries_its_sbom(home: &Path, wheel: &Path) {
    let name = wheel.file_name().unwrap().to_str().unwrap();
    // Out of the wheel and RECORD checked, by Python's own zip reader.
    let document = home.join("in-wheel.spdx.json");
    const CHECK: &str = r#"
import base64, csv, hashlib, io, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
    assert names[-1] == f"{dist_info}/RECORD", names
    sbom = f"{dist_info}/sboms/wheelwright.spdx.json"
    rows = list(csv.reader(io.StringIO(z.read(f"{dist_info}/RECORD").decode())))
    listed = {row[0] for row in rows}
    assert set(names) == listed, (set(names) ^ listed)
    for path, digest, size in rows:
        if not digest:
            continue
        data = z.read(path)
        algorithm, value = digest.split("=", 1)
        want = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()
        assert value == want and int(size) == len(data), path
    open(out, "wb").write(z.read(sbom))
"#;
    let out = Command::new(test_venv().join("bin/python"))
        .args(["-I", "-c", CHECK])
        .arg(wheel)
        .arg(&document)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    validate(&document);
    let spdx: Value = serde_json::from_str(&std::fs::read_to_string(&document).unwrap()).unwrap();
    let described = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == "SPDXRef-Package-wheel")
        .unwrap();
    assert_eq!(described["packageFileName"], name, "{spdx:#}");
    assert!(
        described.get("checksums").is_none(),
        "a wheel cannot carry its own hash: {spdx:#}"
    );
    let sdist = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == "SPDXRef-Package-sdist")
        .unwrap();
    assert_eq!(
        sdist["checksums"][0]["checksumValue"],
        sha256_of(&fixture_dist("ww_hatch-1.0.tar.gz"))
    );

    let site = home.join("site");
    let out = Command::new(test_venv().join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
        ])
        .args(["--disable-pip-version-check", "--target"])
        .arg(&site)
        .arg(wheel)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip install: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(site.join("ww_hatch-1.0.dist-info/sboms/wheelwright.spdx.json")).unwrap(),
        std::fs::read(&document).unwrap()
    );
}
