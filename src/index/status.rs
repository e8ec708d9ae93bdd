//! PEP 792 project status markers, as a project page of the simple API gives them: in PEP
//! 691 JSON (API 1.4) and in the HTML page's `<meta>` tags. A page that gives none, or a
//! value the standard does not name, says nothing: the project is then `active`, as PEP 792
//! defines it. Reading them is all this module does; what a status means for a run is the
//! planner's business.

use serde_json::Value;

/// The four statuses of PEP 792.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusMarker {
    /// The default: uploads allowed, files offered.
    Active,
    /// No more uploads expected; files still offered. Installers may warn.
    Archived,
    /// Considered unsafe (malware): the index must not offer any of its files.
    Quarantined,
    /// Obsolete, perhaps superseded; otherwise as `active`. Installers may warn.
    Deprecated,
}

impl StatusMarker {
    fn parse(text: &str) -> Option<StatusMarker> {
        match text.trim() {
            "active" => Some(StatusMarker::Active),
            "archived" => Some(StatusMarker::Archived),
            "quarantined" => Some(StatusMarker::Quarantined),
            "deprecated" => Some(StatusMarker::Deprecated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusMarker::Active => "active",
            StatusMarker::Archived => "archived",
            StatusMarker::Quarantined => "quarantined",
            StatusMarker::Deprecated => "deprecated",
        }
    }
}

impl std::fmt::Display for StatusMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A project's status with the index's reason, when it gives one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProjectStatus {
    pub marker: StatusMarker,
    pub reason: Option<String>,
}

/// From a PEP 691 project page. The specification's text has carried two layouts: a
/// top-level `project-status` object (`status`, `reason`), and `project-status` and
/// `project-status-reason` inside `meta` (PEP 792 as accepted). Both are read: `top` is the
/// page's `project-status`, `meta_status` and `meta_reason` the keys of its `meta`.
pub(super) fn from_json(
    top: Option<&Value>,
    meta_status: Option<&Value>,
    meta_reason: Option<&Value>,
) -> Option<ProjectStatus> {
    let reason = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
    };
    let (status, why) = match top.and_then(Value::as_object) {
        Some(object) => (object.get("status"), object.get("reason")),
        None => (meta_status, meta_reason),
    };
    Some(ProjectStatus {
        marker: status
            .and_then(Value::as_str)
            .and_then(StatusMarker::parse)?,
        reason: reason(why),
    })
}

/// From a PEP 503 page's `<meta name="pypi:project-status" content="…">` and
/// `<meta name="pypi:project-status-reason" content="…">` (values already unescaped).
pub(super) fn from_html(status: Option<&str>, reason: Option<&str>) -> Option<ProjectStatus> {
    Some(ProjectStatus {
        marker: StatusMarker::parse(status?)?,
        reason: reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from),
    })
}
