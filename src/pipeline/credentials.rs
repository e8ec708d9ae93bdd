//! The target's credentials, verified before the first build: a wrong password must not
//! cost a compile that is then thrown away. Only a run that would upload asks (a no-op
//! night sends no login at all), and only once.

use tokio::sync::Mutex;

use super::Pipeline;
use crate::index::Target;
use crate::index::upload::check_upload_credentials;

impl Pipeline<'_> {
    /// devpi: the login itself (its token then serves the uploads). An upload-API index
    /// (pypiserver, Artifactory, Nexus): an upload request without a file, which such a
    /// server authenticates before it looks at the form. Both the target and the pure index.
    pub(super) async fn verify_credentials(
        &self,
        target_failure: &Mutex<Option<String>>,
    ) -> Result<(), String> {
        let verdict = self
            .credentials_checked
            .get_or_init(|| async {
                let destinations = std::iter::once(&self.ctx.target).chain(&self.ctx.pure_index);
                for destination in destinations {
                    match destination {
                        Target::Devpi(index) => self.login_once(index).await?,
                        Target::Simple { upload, .. }
                            if self.ctx.client.credentials(upload).is_some() =>
                        {
                            check_upload_credentials(&self.ctx.client, upload)
                                .await
                                .map_err(|e| e.to_string())?
                        }
                        Target::Simple { .. } | Target::Directory { .. } => {}
                    }
                }
                Ok(())
            })
            .await;
        match verdict {
            Ok(()) => Ok(()),
            Err(message) => {
                let message =
                    format!("{message} (checked before the first build; nothing was built)");
                if target_failure.lock().await.is_none() {
                    self.log(&format!("error: {message}"));
                }
                self.stop_for_target(target_failure, &message).await;
                Err(message)
            }
        }
    }
}
