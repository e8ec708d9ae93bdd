//! devpi login, in one place: `plan` logs in at start, `fill` before its first upload (or
//! build), once per server root, and once more when an upload meets a 401 (an expired token,
//! a restarted server). Every login sends the same credentials and keeps a reverse proxy's
//! basic credentials (given in the target URL) in front of devpi's token.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::index::{Credentials, DevpiIndex, HttpClient, IndexError};

/// `POST /+login` to the index's server (or the token check for devpi-tokens); the token
/// then serves every later request to that server.
pub(crate) async fn log_in(
    client: &HttpClient,
    index: &DevpiIndex,
    user: &str,
    password: &str,
) -> Result<(), IndexError> {
    index
        .login(client, user, password, proxy_basic(client, index))
        .await
}

/// Basic credentials for a proxy in front of devpi (devpi-builder#94): taken from the URL
/// before the first login, kept beside the token after it.
fn proxy_basic(client: &HttpClient, index: &DevpiIndex) -> Option<(String, String)> {
    match client.credentials(&index.root) {
        Some(Credentials::Basic { user, password }) => Some((user, password)),
        Some(Credentials::Devpi { proxy_basic, .. }) => proxy_basic,
        None => None,
    }
}

/// The logins of a run, by server root: every upload to a server waits for its one login.
#[derive(Default)]
pub(crate) struct Logins {
    done: Mutex<HashMap<String, Result<(), Arc<IndexError>>>>,
}

impl Logins {
    /// Logs in to the index's server unless that was done (or failed) already. Without
    /// credentials there is nothing to do.
    pub(crate) async fn once(
        &self,
        client: &HttpClient,
        index: &DevpiIndex,
        credentials: Option<&(String, String)>,
    ) -> Result<(), Arc<IndexError>> {
        let Some((user, password)) = credentials else {
            return Ok(());
        };
        let mut done = self.done.lock().await;
        let root = index.root.to_string();
        if let Some(result) = done.get(&root) {
            return result.clone();
        }
        let result = log_in(client, index, user, password)
            .await
            .map_err(Arc::new);
        done.insert(root, result.clone());
        result
    }
}
