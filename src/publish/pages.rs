//! The directory target's simple pages, in both forms of the simple repository API: PEP 503
//! HTML (`index.html`) and PEP 691 JSON (`index.json`), beside each other in `simple/` and
//! `simple/<project>/`. A web server chooses one by the request's `Accept` header
//! (docs/directory-target.md gives the nginx configuration); a `file://` index reads the
//! HTML.
//!
//! The JSON page is the project's record: per file its sha256, PEP 700 `size` and
//! `upload-time`, `requires-python`, and the sha256 of its PEP 658 metadata file. PEP 833
//! froze the HTML form, so it carries only what it had (the hash fragment,
//! `data-requires-python`, PEP 714's `data-core-metadata` and, for clients older than PEP
//! 714, `data-dist-info-metadata`); a project whose JSON page is missing (written by an older
//! wheelwright) is read from its HTML page and completed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde_json::{Value, json};

use crate::distribution::{DistFilename, SafeFilename, Sha256};
use crate::index::{IndexFile, MetadataFile};
use crate::timestamp::Timestamp;

/// PEP 700 made `size` and `versions` part of the API as version 1.1; both forms say the
/// same version (PEP 629).
const API_VERSION: &str = "1.1";

/// What a project's pages say about one of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PageFile {
    pub sha256: Sha256,
    /// PEP 700; absent only in a record read from an HTML page.
    pub size: Option<u64>,
    /// PEP 700: when the file was placed into the directory.
    pub upload_time: Option<Timestamp>,
    /// The wheel's `Requires-Python`; known once its METADATA was read.
    pub requires_python: Option<String>,
    /// PEP 658/714: the sha256 of `<file>.metadata`, when that file is written.
    pub core_metadata: Option<Sha256>,
}

pub(super) type PageFiles = BTreeMap<SafeFilename, PageFile>;

/// The files a project's pages list: from `index.json`, else from `index.html` (what an
/// older wheelwright wrote: hashes only). Pages that cannot be read or parsed list nothing;
/// they are written anew from what is known.
pub(super) fn read(project_dir: &Path) -> PageFiles {
    crate::index::directory_project_page(project_dir)
        .map(|listing| listing.files)
        .unwrap_or_default()
        .into_iter()
        .filter_map(page_file)
        .collect()
}

fn page_file(file: IndexFile) -> Option<(SafeFilename, PageFile)> {
    let core_metadata = match file.metadata_file {
        MetadataFile::Offered { sha256 } => sha256,
        MetadataFile::NotOffered => None,
    };
    Some((
        file.filename,
        PageFile {
            sha256: file.sha256?,
            size: file.size,
            upload_time: file.upload_time,
            requires_python: file.requires_python,
            core_metadata,
        },
    ))
}

/// The file's URL relative to `simple/<project>/` (both forms resolve it against the page).
fn href(name: &SafeFilename) -> String {
    format!("../../{name}")
}

/// PEP 503 project page, with PEP 658/714 metadata attributes.
pub(super) fn project_html(project: &PackageName, files: &PageFiles) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"{API_VERSION}\"><title>Links for {project}</title></head><body>\n<h1>Links for {project}</h1>\n"
    );
    for (name, file) in files {
        let mut attributes = String::new();
        if let Some(requires) = &file.requires_python {
            attributes.push_str(&format!(" data-requires-python=\"{}\"", escape(requires)));
        }
        if let Some(metadata) = &file.core_metadata {
            // PEP 714's name, and PEP 658's for clients that predate the rename.
            attributes.push_str(&format!(
                " data-core-metadata=\"sha256={metadata}\" data-dist-info-metadata=\"sha256={metadata}\""
            ));
        }
        let text = escape(name.as_str());
        page.push_str(&format!(
            "<a href=\"{}#sha256={}\"{attributes}>{text}</a><br>\n",
            escape(&href(name)),
            file.sha256
        ));
    }
    page.push_str("</body></html>\n");
    page
}

/// PEP 691 project detail (API 1.1: PEP 700's `versions`, `size` and `upload-time`). The
/// metadata file is offered under PEP 714's `core-metadata` only: pip from 22.3 until the
/// rename fails outright on a JSON `dist-info-metadata` key (PEP 714, Motivation).
pub(super) fn project_json(project: &PackageName, files: &PageFiles) -> String {
    let versions: BTreeSet<Version> = files
        .keys()
        .filter_map(|name| DistFilename::parse(name, project))
        .map(|dist| dist.version().clone())
        .collect();
    let files: Vec<Value> = files
        .iter()
        .map(|(name, file)| {
            let mut entry = json!({
                "filename": name.as_str(),
                "url": href(name),
                "hashes": {"sha256": file.sha256.to_string()},
            });
            if let Some(requires) = &file.requires_python {
                entry["requires-python"] = json!(requires);
            }
            if let Some(size) = file.size {
                entry["size"] = json!(size);
            }
            if let Some(time) = file.upload_time {
                entry["upload-time"] = json!(time.to_string());
            }
            if let Some(metadata) = &file.core_metadata {
                entry["core-metadata"] = json!({"sha256": metadata.to_string()});
            }
            entry
        })
        .collect();
    let page = json!({
        "meta": {"api-version": API_VERSION},
        "name": project.as_ref(),
        "versions": versions.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "files": files,
    });
    format!("{page:#}\n")
}

/// PEP 503 root page.
pub(super) fn root_html(names: &[String]) -> String {
    let mut root = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"{API_VERSION}\"><title>Simple index</title></head><body>\n"
    );
    for name in names {
        root.push_str(&format!("<a href=\"{0}/\">{0}</a><br>\n", escape(name)));
    }
    root.push_str("</body></html>\n");
    root
}

/// PEP 691 root page.
pub(super) fn root_json(names: &[String]) -> String {
    let projects: Vec<Value> = names.iter().map(|name| json!({"name": name})).collect();
    let root = json!({"meta": {"api-version": API_VERSION}, "projects": projects});
    format!("{root:#}\n")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
