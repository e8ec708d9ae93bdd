//! Transfer slots per host (`--transfer-concurrency`): downloads and uploads to one server
//! share its slots, so one slow server does not hold every slot and no server gets more
//! than `per_host` transfers at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub(crate) struct HostSlots {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostSlots {
    pub(crate) fn new(per_host: usize) -> HostSlots {
        HostSlots {
            per_host: per_host.max(1),
            hosts: Mutex::default(),
        }
    }

    /// Waits for a slot of the URL's origin; the slot is free again when the permit drops.
    pub(crate) async fn permit(&self, url: &url::Url) -> OwnedSemaphorePermit {
        let key = url.origin().ascii_serialization();
        let semaphore = {
            let mut hosts = self.hosts.lock().expect("host slots lock");
            Arc::clone(
                hosts
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        semaphore
            .acquire_owned()
            .await
            .expect("host semaphores are never closed")
    }
}
