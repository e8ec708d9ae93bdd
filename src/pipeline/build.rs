//! The build stage: an sdist is downloaded once, then built per interpreter (in the order
//! given) until a build yields a pure wheel, which then serves every remaining interpreter
//! (piwheels' per-ABI cascade). Builds are bounded by the `--jobs` semaphore; each built
//! wheel goes into the store and is uploaded at once.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::failures::FailureKey;
use super::{Key, Pipeline, Unit, all_jobs};
use crate::builder::{BuildRequest, config_settings};
use crate::distribution::DistFilename;
use crate::plan::JobSlot;
use crate::report::{
    BuildInfo, BuildSchedule, CrateInfo, JobResult, MissingInfo, Outcome, SourceFile, WheelFile,
};

impl Pipeline<'_> {
    pub(super) async fn build_unit(&self, unit: Unit) -> Vec<(Key, JobResult)> {
        let started = Instant::now();
        let first = unit.jobs[0].job.clone();
        if let Some(reason) = self.stop.reason() {
            return all_jobs(&unit.jobs, Outcome::NotRun, reason.not_attempted(), started);
        }
        // Nothing is built for a target that would refuse the upload, nor with credentials
        // it would refuse (devpi logs in here, once).
        if !self.settings.no_upload
            && let Err(problem) = self.session.check_before_build().await
        {
            return all_jobs(&unit.jobs, Outcome::NotRun, &problem.to_string(), started);
        }
        let builder = match self.builder().await {
            Ok(builder) => builder,
            Err(error) => {
                let detail = format!("cannot build: {error}");
                return all_jobs(&unit.jobs, Outcome::Failed, &detail, started);
            }
        };
        let file = &unit.chosen.file;
        let sdist = match self.download(&first, file).await {
            Ok(stored) => stored,
            Err(e) => return all_jobs(&unit.jobs, Outcome::Failed, &e.to_string(), started),
        };
        let (mut pending, mut out) = self.check_hashes(unit.jobs, &sdist, started).await;
        let name = first.project.clone();
        let version = unit.chosen.version.clone();
        // This package's `[package.NAME]` settings; they are part of the failure key.
        let settings = self.packages.for_build(&name, &version);
        let fingerprint = settings.fingerprint();
        // Interpreters in the order given on the command line.
        while let Some(lead) = pending.first().map(|slot| slot.job.clone()) {
            let interpreter = Arc::clone(&lead.interpreter);
            let label = &interpreter.label;
            let (these, rest): (Vec<JobSlot>, Vec<JobSlot>) = pending
                .clone()
                .into_iter()
                .partition(|slot| Arc::ptr_eq(&slot.job.interpreter, &interpreter));
            if let Some(reason) = self.stop.reason() {
                out.extend(all_jobs(
                    &pending,
                    Outcome::NotRun,
                    reason.not_attempted(),
                    started,
                ));
                break;
            }
            let interpreter_id = format!("{} {}", label, interpreter.executable.display());
            let version_text = version.to_string();
            let failure_key = FailureKey {
                project: name.as_ref(),
                version: &version_text,
                interpreter: &interpreter_id,
                sdist_sha256: &sdist.sha256,
                settings: &fingerprint,
            };
            if let Some(known) = self.failures.lookup(&failure_key) {
                let detail = format!(
                    "known failure (recorded {}; --retry-failed builds it again): {}",
                    super::failures::age(known.when),
                    known.reason
                );
                out.extend(all_jobs(&these, Outcome::Failed, &detail, started));
                pending = rest;
                continue;
            }
            let entry = &self.requirements.requirements[lead.entry];
            let source = SourceFile {
                filename: file.filename.clone(),
                sha256: sdist.sha256.clone(),
                url: file.url.clone(),
            };
            let request = BuildRequest {
                sdist: sdist.path.clone(),
                name: name.clone(),
                version: version.clone(),
                interpreter: Arc::clone(&interpreter),
                // The requirement line's `--config-settings`, then the package's.
                config_settings: config_settings(
                    entry
                        .config_settings
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .chain(settings.config_settings.iter().flat_map(|(k, values)| {
                            values.iter().map(move |v| (k.as_str(), v.as_str()))
                        })),
                ),
                source_date_epoch: None,
                settings: settings.clone(),
                // PEP 770: the wheel carries the SPDX document of its build.
                sbom: Some(Arc::new(crate::report::sbom::InWheel {
                    project: name.to_string(),
                    version: version.to_string(),
                    build: BuildInfo::new(
                        builder.sandbox(),
                        &interpreter,
                        Some(source.clone()),
                        &Default::default(),
                        &settings,
                    ),
                })),
            };
            let what = if settings.exclusive {
                format!("{name} {version} for {label} (alone: jobs = 1)")
            } else {
                format!("{name} {version} for {label}")
            };
            let queued = SystemTime::now();
            let built = {
                // `jobs = 1`: the build takes every `--jobs` slot, so nothing runs beside it.
                let wanted = if settings.exclusive {
                    self.build_slot_count
                } else {
                    1
                };
                let _slot = self
                    .build_slots
                    .acquire_many(wanted)
                    .await
                    .expect("the build semaphore is never closed");
                let lane = self.lanes.take();
                let started = SystemTime::now();
                // Dropped before `_slot`: its `ended` line comes while the slots are held.
                let _line = self.progress.build_started(&what);
                // Dropping the build future kills its process group.
                let built = tokio::select! {
                    built = builder.build_recorded(request) => Some(built),
                    _ = self.stop.cancelled() => None,
                };
                built.map(|built| {
                    let schedule = BuildSchedule {
                        slot: lane.index,
                        queued,
                        started,
                        finished: SystemTime::now(),
                    };
                    (built, schedule)
                })
            };
            let Some(built) = built else {
                let reason = self
                    .stop
                    .reason()
                    .map_or("not attempted: interrupted", |r| r.not_attempted());
                out.extend(all_jobs(
                    &pending,
                    Outcome::NotRun,
                    &format!("{reason} (build killed)"),
                    started,
                ));
                break;
            };
            let ((built, facts), schedule) = built;
            let mut provenance = BuildInfo::new(
                builder.sandbox(),
                &interpreter,
                Some(source),
                &facts,
                &settings,
            );
            provenance.schedule = Some(schedule);
            let built = match built {
                Ok(built) => built,
                Err(e) => {
                    self.log(&format!("failed   build of {what}: {e}"));
                    self.failures.record(&failure_key, &e);
                    let mut failed = all_jobs(
                        &these,
                        Outcome::Failed,
                        &format!("build failed: {e}"),
                        started,
                    );
                    for (_, result) in &mut failed {
                        result.log_tail = e.log_tail().map(String::from);
                        result.decisive = e.decisive().map(String::from);
                        result.build = Some(BuildInfo {
                            missing: e.missing().as_ref().map(MissingInfo::of),
                            ..provenance.clone()
                        });
                    }
                    out.extend(failed);
                    pending = rest;
                    continue;
                }
            };
            // The backend named the wheel: outside data like any listed name.
            let raw_name = built
                .path
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let filename = match crate::distribution::SafeFilename::new(&raw_name) {
                Ok(name) => name,
                Err(e) => {
                    let detail = format!("the build produced a wheel named {raw_name:?}: {e}");
                    let mut failed = all_jobs(&these, Outcome::Failed, &detail, started);
                    for (_, result) in &mut failed {
                        result.build = Some(provenance.clone());
                    }
                    out.extend(failed);
                    pending = rest;
                    continue;
                }
            };
            let stored = match self
                .store
                .copy_in(&built.path, &filename, &Default::default())
                .await
            {
                Ok(stored) => stored,
                Err(e) => {
                    let mut failed = all_jobs(&these, Outcome::Failed, &e.to_string(), started);
                    for (_, result) in &mut failed {
                        result.built = true;
                        result.build = Some(provenance.clone());
                    }
                    out.extend(failed);
                    pending = rest;
                    continue;
                }
            };
            self.failures.forget(&failure_key);
            self.log(&format!(
                "built    {filename} in {:.1}s",
                built.duration.as_secs_f64()
            ));
            let pure = matches!(DistFilename::parse(&filename, &name), Some(DistFilename::Wheel(w)) if w.is_pure());
            // A pure wheel serves every interpreter still waiting for this sdist.
            let served = if pure { pending.clone() } else { these };
            let mut delivered = self
                .deliver(&served, &stored, Some(&built.log_tail), started)
                .await;
            // The crates a Rust build was vendored from (its Cargo.lock), for the SBOM.
            let info = BuildInfo {
                wheel: Some(WheelFile {
                    filename: filename.clone(),
                    sha256: stored.sha256.clone(),
                }),
                crates: built.crates.iter().map(CrateInfo::of).collect(),
                ..provenance
            };
            for (_, result) in &mut delivered {
                result.build = Some(info.clone());
            }
            out.extend(delivered);
            pending = if pure { Vec::new() } else { rest };
        }
        out
    }
}
