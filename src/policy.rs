//! Policies of a shared devpi index, checked before anything is built or uploaded.
//!
//! * Upload permission: the index's `acl_upload` must admit the user (or `:ANONYMOUS:`, or
//!   `:AUTHENTICATED:` for a logged-in user); otherwise a run would compile for an hour and
//!   then get 403 for every upload.
//! * Shadowing: devpi hides a mirror's releases of a project as soon as a private stage in
//!   the resolution order holds that project, unless `mirror_whitelist` names it
//!   (devpi's `op_sro_check_mirror_whitelist`; docs/devpi-protocol.md). Uploading `numpy` wheels to an
//!   index with the PyPI mirror among its bases hides every other `numpy` release from it.

use pep508_rs::PackageName;

use crate::index::{DevpiIndex, HttpClient, IndexError};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct TargetPolicy {
    /// `user/index` of the target.
    pub stage: String,
    pub acl_upload: Vec<String>,
    pub mirror_whitelist: Vec<String>,
    /// The first mirror stage in the target's bases (transitively), if any.
    pub mirror: Option<String>,
    /// Every mirror stage among the bases, in devpi's resolution order: the default upstream
    /// when none is configured.
    pub mirrors: Vec<String>,
}

impl TargetPolicy {
    /// Reads the target's configuration and those of its bases, breadth-first (devpi's SRO).
    pub(crate) async fn load(
        client: &HttpClient,
        target: &DevpiIndex,
    ) -> Result<TargetPolicy, IndexError> {
        let mut chain = target.inheritance(client).await?.into_iter();
        let Some((_, own)) = chain.next() else {
            return Err(IndexError::BadResponse {
                url: crate::index::redact(&target.url()),
                detail: "no configuration".into(),
            });
        };
        let mirrors: Vec<String> = chain
            .filter(|(_, config)| config.kind == "mirror")
            .map(|(stage, _)| stage.stage())
            .collect();
        Ok(TargetPolicy {
            stage: target.stage(),
            acl_upload: own.acl_upload,
            mirror_whitelist: own.mirror_whitelist,
            mirror: mirrors.first().cloned(),
            mirrors,
        })
    }

    /// [`Self::load`], remembered in `cache_dir` under devpi's database serial: index
    /// configurations live in that database, so while the serial the run saw first (`+api`)
    /// has not moved, neither has any stage of the chain, and a no-op night reads none of
    /// them (docs/devpi-protocol.md, "The database serial"). A policy read after the serial
    /// moved on is stored under the earlier serial, which only makes the next run read again.
    pub(crate) async fn load_remembered(
        client: &HttpClient,
        target: &DevpiIndex,
        cache_dir: &std::path::Path,
    ) -> Result<TargetPolicy, IndexError> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Remembered {
            serial: u64,
            target: String,
            policy: TargetPolicy,
        }
        let Some(serial) = target.serial else {
            return TargetPolicy::load(client, target).await;
        };
        let url = target.url().to_string();
        let key = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(url.as_bytes()));
        let path = cache_dir.join("policies").join(format!("{key}.json"));
        let remembered = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Remembered>(&bytes).ok())
            .filter(|r| r.serial == serial && r.target == url);
        if let Some(remembered) = remembered {
            return Ok(remembered.policy);
        }
        let policy = TargetPolicy::load(client, target).await?;
        let record = Remembered {
            serial,
            target: url,
            policy: policy.clone(),
        };
        crate::index::snapshot::remember(&path, &record);
        Ok(policy)
    }

    /// `Err` when `user` may not upload.
    pub(crate) fn may_upload(&self, user: Option<&str>) -> Result<(), Refusal> {
        let admitted = self.acl_upload.iter().any(|entry| match entry.as_str() {
            ":ANONYMOUS:" => true,
            ":AUTHENTICATED:" => user.is_some(),
            name => user == Some(name),
        });
        // Group entries (`:group`) come from auth plugins wheelwright cannot ask: let the
        // server decide rather than refusing a user who may well be a member.
        let groups = self
            .acl_upload
            .iter()
            .any(|e| e.starts_with(':') && !e.ends_with(':'));
        if admitted || groups {
            return Ok(());
        }
        Err(Refusal {
            user: user.map(String::from),
            stage: self.stage.clone(),
            acl_upload: self.acl_upload.clone(),
        })
    }

    /// When uploading `project` would hide the mirror's other releases of it.
    pub(crate) fn shadowing(&self, project: &PackageName) -> Option<Shadowing> {
        let mirror = self.mirror.as_ref()?;
        let covered = self
            .mirror_whitelist
            .iter()
            .any(|entry| entry == "*" || entry == project.as_ref());
        (!covered).then(|| Shadowing {
            project: project.clone(),
            stage: self.stage.clone(),
            mirror: mirror.clone(),
        })
    }
}

/// The target's `acl_upload` does not admit the user. Its text says who, where and what the
/// list holds; the caller adds what follows from it (fill stops, plan warns).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} may not upload to {stage} (acl_upload: {})",
    user.as_ref().map_or("an anonymous user".to_string(), |u| format!("user `{u}`")),
    if acl_upload.is_empty() { "empty".to_string() } else { acl_upload.join(", ") }
)]
pub(crate) struct Refusal {
    pub user: Option<String>,
    pub stage: String,
    pub acl_upload: Vec<String>,
}

/// Uploading `project` to `stage` would hide `mirror`'s other releases of it; the text names
/// the whitelist entry that prevents it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "uploading {project} to {stage} hides {mirror}'s other releases of {project}; \
     whitelist it with `devpi index {stage} mirror_whitelist+={project}`"
)]
pub(crate) struct Shadowing {
    pub project: PackageName,
    pub stage: String,
    pub mirror: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(acl: &[&str], whitelist: &[&str], mirror: Option<&str>) -> TargetPolicy {
        TargetPolicy {
            stage: "shared/thirdparty-local".into(),
            acl_upload: acl.iter().map(|s| s.to_string()).collect(),
            mirror_whitelist: whitelist.iter().map(|s| s.to_string()).collect(),
            mirror: mirror.map(String::from),
            mirrors: mirror.map(String::from).into_iter().collect(),
        }
    }

    #[test]
    fn upload_permission_follows_acl_upload() {
        assert!(policy(&["qa"], &[], None).may_upload(Some("qa")).is_ok());
        let refused = policy(&["qa"], &[], None)
            .may_upload(Some("jenkins"))
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "user `jenkins` may not upload to shared/thirdparty-local (acl_upload: qa)"
        );
        assert_eq!(
            policy(&[], &[], None)
                .may_upload(None)
                .unwrap_err()
                .to_string(),
            "an anonymous user may not upload to shared/thirdparty-local (acl_upload: empty)"
        );
        assert!(policy(&[":ANONYMOUS:"], &[], None).may_upload(None).is_ok());
        assert!(
            policy(&[":AUTHENTICATED:"], &[], None)
                .may_upload(None)
                .is_err()
        );
        assert!(
            policy(&[":AUTHENTICATED:"], &[], None)
                .may_upload(Some("x"))
                .is_ok()
        );
        assert!(
            policy(&[":builders"], &[], None)
                .may_upload(Some("x"))
                .is_ok(),
            "groups are the server's call"
        );
    }

    #[test]
    fn shadowing_names_the_whitelist_entry() {
        let name = PackageName::new("NumPy".into()).unwrap();
        let warning = policy(&[], &[], Some("root/pypi"))
            .shadowing(&name)
            .unwrap();
        assert_eq!(
            warning.to_string(),
            "uploading numpy to shared/thirdparty-local hides root/pypi's other releases of \
             numpy; whitelist it with `devpi index shared/thirdparty-local mirror_whitelist+=numpy`"
        );
        assert!(
            policy(&[], &["numpy"], Some("root/pypi"))
                .shadowing(&name)
                .is_none()
        );
        assert!(
            policy(&[], &["*"], Some("root/pypi"))
                .shadowing(&name)
                .is_none()
        );
        assert!(policy(&[], &[], None).shadowing(&name).is_none());
    }
}
