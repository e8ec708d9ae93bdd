//! PEP 770: the build's SPDX document inside the wheel it describes, at
//! `NAME-VERSION.dist-info/sboms/wheelwright.spdx.json`, listed in RECORD with its sha256 and
//! size. Done after the backend (and a repair command) wrote the wheel and before it is
//! validated, so the wheel that is validated, hashed for the provenance and uploaded is the
//! one that carries it.
//!
//! The wheel is rewritten, not extracted: every member the backend wrote (any SBOM it put in
//! `sboms/` too) is copied as it is, compressed bytes and headers alike; the document is
//! added with the build's `SOURCE_DATE_EPOCH` as its time and RECORD, rewritten with one more
//! row, keeps its own header and stays the last member. The same build gives the same bytes.
//! The document is the caller's (`SbomSource`): the builder knows what the build did, the
//! report module how an SPDX document says it.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

use sha2::Digest;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{BuildFacts, LockedCrate};
use crate::distribution::hash::record_hash;
use crate::distribution::{
    MAX_METADATA_BYTES, WheelError, find_dist_info, read_member, wheel_filename,
};
use crate::timestamp::Timestamp;

/// The document's file name in `.dist-info/sboms/` (PEP 770 leaves the name to the tool).
pub const SBOM_NAME: &str = "wheelwright.spdx.json";

/// Writes the SBOM of a finished build.
pub trait SbomSource: Send + Sync + std::fmt::Debug {
    /// The document's bytes for the wheel named `wheel`, from what the build did.
    fn document(&self, wheel: &str, facts: &BuildFacts, crates: &[LockedCrate]) -> Vec<u8>;
}

/// Why the document could not be put into the wheel.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Wheel(#[from] WheelError),
    #[error("rewriting {what}: {source}")]
    Zip {
        what: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("rewriting {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Adds `document` to the wheel at `path` (rewritten in place, atomically). A member of that
/// name already in the wheel is the backend's and is kept; nothing is added then.
pub fn embed(path: &Path, document: &[u8], epoch: u64) -> Result<(), EmbedError> {
    let filename = wheel_filename(path)?;
    let file = File::open(path).map_err(|source| WheelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(|source| WheelError::Zip {
        path: path.to_path_buf(),
        source,
    })?;
    let dist_info = find_dist_info(path, &filename, &archive)?;
    let member = format!("{dist_info}/sboms/{SBOM_NAME}");
    let record_name = format!("{dist_info}/RECORD");
    if archive.index_for_name(&member).is_some() {
        return Ok(());
    }
    let record = read_member(path, &mut archive, &record_name, MAX_METADATA_BYTES)?;
    let record_index = archive
        .index_for_name(&record_name)
        .expect("read_member found it");
    let what = path.display().to_string();
    let zip_error = |source| EmbedError::Zip {
        what: what.clone(),
        source,
    };
    let io_error = |source| EmbedError::Io {
        what: what.clone(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".sbom-")
        .tempfile_in(dir)
        .map_err(io_error)?;
    let mut writer = ZipWriter::new(tmp.reopen().map_err(io_error)?);
    for index in 0..archive.len() {
        if index == record_index {
            continue;
        }
        let entry = archive.by_index_raw(index).map_err(zip_error)?;
        writer.raw_copy_file(entry).map_err(zip_error)?;
    }
    let (year, month, day, hour, minute, second) =
        Timestamp::from_unix(i64::try_from(epoch).unwrap_or(i64::MAX)).utc_fields();
    // DOS times start in 1980 (the builder's SOURCE_DATE_EPOCH floor); a later year than
    // the format holds is the format's last.
    let time = zip::DateTime::from_date_and_time(
        u16::try_from(year.clamp(1980, 2107)).expect("clamped"),
        u8::try_from(month).expect("a month"),
        u8::try_from(day).expect("a day"),
        u8::try_from(hour).expect("an hour"),
        u8::try_from(minute).expect("a minute"),
        u8::try_from(second).expect("a second"),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(time)
        .unix_permissions(0o644);
    writer
        .start_file(member.as_str(), options)
        .map_err(zip_error)?;
    writer.write_all(document).map_err(io_error)?;
    // RECORD as the backend wrote it, with its header (time, method, mode), one row more.
    let original = archive.by_index_raw(record_index).map_err(zip_error)?;
    let mut record_options = SimpleFileOptions::default()
        .compression_method(original.compression())
        .last_modified_time(original.last_modified().unwrap_or(time));
    if let Some(mode) = original.unix_mode() {
        record_options = record_options.unix_permissions(mode);
    }
    drop(original);
    writer
        .start_file(record_name.as_str(), record_options)
        .map_err(zip_error)?;
    writer
        .write_all(&with_row(&record, &member, document))
        .map_err(io_error)?;
    writer.finish().map_err(zip_error)?;
    tmp.as_file().sync_all().map_err(io_error)?;
    tmp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(())
}

/// RECORD with a row for `member` (PEP 376: path, `sha256=` urlsafe base64, size), in the
/// line ending RECORD already uses.
fn with_row(record: &[u8], member: &str, content: &[u8]) -> Vec<u8> {
    let newline: &[u8] = if record.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let digest: [u8; 32] = sha2::Sha256::digest(content).into();
    let mut out = record.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(newline);
    }
    out.extend_from_slice(
        format!("{member},{},{}", record_hash(&digest), content.len()).as_bytes(),
    );
    out.extend_from_slice(newline);
    out
}

#[cfg(test)]
mod tests;
