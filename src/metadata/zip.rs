//! Finding and reading a wheel's `*.dist-info/METADATA` from parts of the zip, without the
//! rest: the end of central directory record (zip64 too), the central directory, the member's
//! local header and data (the zip format as APPNOTE describes it; the same reads uv and pip's
//! `fast-deps` make over HTTP ranges).
//!
//! Sans I/O: [`read_metadata`] works on the [`Windows`] fetched so far and answers either the
//! member's bytes or the next range it needs. Every offset and length comes from the server
//! and is untrusted: each is checked against the file length and the caps before use, and
//! arithmetic never wraps.

use std::io::Read;

/// The end of central directory record without comment, and the most a comment adds.
const EOCD_LEN: u64 = 22;
const MAX_COMMENT: u64 = 0xFFFF;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_LEN: u64 = 56;
const CENTRAL_HEADER_LEN: usize = 46;
const LOCAL_HEADER_LEN: u64 = 30;

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

/// The tail asked for first: enough for the EOCD with the longest comment and a zip64
/// locator and record, so one request usually finds the central directory.
pub const TAIL_LEN: u64 = EOCD_LEN + MAX_COMMENT + ZIP64_LOCATOR_LEN + ZIP64_EOCD_LEN;

/// Caps on what the server's numbers may make us read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// The central directory (a wheel with 100,000 files has about 10 MiB).
    pub central_directory: u64,
    /// METADATA, compressed and inflated.
    pub member: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            central_directory: 32 << 20,
            member: crate::distribution::MAX_METADATA_BYTES,
        }
    }
}

/// Why the parts do not give a METADATA. None of these is the wheel's fault for sure (a
/// server may have sent wrong ranges): the caller falls back to the whole file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipProblem {
    #[error("no end of central directory record in the last {0} bytes")]
    NoEndRecord(u64),
    #[error("a zip split over several disks")]
    MultiDisk,
    #[error("the zip64 end of central directory record is missing or malformed")]
    BadZip64,
    #[error("the central directory ({size} bytes at {offset}) lies outside the file")]
    DirectoryOutside { offset: u64, size: u64 },
    #[error("the central directory is {size} bytes, more than the {limit} bytes read this way")]
    DirectoryTooLarge { size: u64, limit: u64 },
    #[error("central directory entry {0} is malformed")]
    BadEntry(u64),
    #[error("no top-level `*.dist-info/METADATA` in the central directory")]
    NoMetadata,
    #[error("{0} `*.dist-info/METADATA` members; a wheel has one")]
    SeveralMetadata(usize),
    #[error("METADATA is encrypted")]
    Encrypted,
    #[error("METADATA uses compression method {0}; only stored and deflate are read this way")]
    Method(u16),
    #[error("METADATA is {size} bytes, more than the {limit} bytes read this way")]
    MemberTooLarge { size: u64, limit: u64 },
    #[error("the local header of METADATA at {0} is malformed or outside the file")]
    BadLocalHeader(u64),
    #[error("METADATA does not inflate to its recorded size and CRC-32")]
    BadData,
}

/// What [`read_metadata`] needs next, or why it cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The bytes `[offset, offset + len)` of the file, within its length.
    Need {
        offset: u64,
        len: u64,
    },
    Bad(ZipProblem),
}

impl From<ZipProblem> for Step {
    fn from(problem: ZipProblem) -> Self {
        Step::Bad(problem)
    }
}

/// Parts of a file of known length, each at its offset.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    len: u64,
    parts: Vec<(u64, Vec<u8>)>,
}

impl Windows {
    pub fn new(len: u64) -> Self {
        Self {
            len,
            parts: Vec::new(),
        }
    }

    /// The whole file as one part (tests, fuzzing).
    pub fn whole(bytes: Vec<u8>) -> Self {
        Self {
            len: bytes.len() as u64,
            parts: vec![(0, bytes)],
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds bytes read at `offset`; the part is cut at the file's end.
    pub fn insert(&mut self, offset: u64, mut bytes: Vec<u8>) {
        let room = self.len.saturating_sub(offset);
        bytes.truncate(usize::try_from(room).unwrap_or(usize::MAX));
        if !bytes.is_empty() {
            self.parts.push((offset, bytes));
        }
    }

    /// `[offset, offset + len)`: a problem if outside the file, `Need` if not fetched yet.
    fn get(&self, offset: u64, len: u64, outside: ZipProblem) -> Result<&[u8], Step> {
        let end = offset.checked_add(len).ok_or(outside.clone())?;
        if end > self.len {
            return Err(Step::Bad(outside));
        }
        for (start, bytes) in &self.parts {
            let Some(from) = offset.checked_sub(*start) else {
                continue;
            };
            let (Ok(from), Ok(n)) = (usize::try_from(from), usize::try_from(len)) else {
                continue;
            };
            if let Some(slice) = from.checked_add(n).and_then(|to| bytes.get(from..to)) {
                return Ok(slice);
            }
        }
        Err(Step::Need { offset, len })
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// Where the central directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Directory {
    offset: u64,
    size: u64,
    entries: u64,
    /// Where the end records start: the directory and every member lie before it.
    end: u64,
}

/// One central directory entry of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    flags: u16,
    method: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    local_offset: u64,
    name_len: u64,
    extra_len: u64,
}

/// The METADATA member of the zip whose parts are `windows`, inflated, or the next step.
pub fn read_metadata(windows: &Windows, limits: ZipLimits) -> Result<Vec<u8>, Step> {
    let directory = find_directory(windows)?;
    if directory.size > limits.central_directory {
        return Err(ZipProblem::DirectoryTooLarge {
            size: directory.size,
            limit: limits.central_directory,
        }
        .into());
    }
    let outside = ZipProblem::DirectoryOutside {
        offset: directory.offset,
        size: directory.size,
    };
    if directory
        .offset
        .checked_add(directory.size)
        .is_none_or(|end| end > directory.end)
    {
        return Err(outside.into());
    }
    let cd = windows.get(directory.offset, directory.size, outside)?;
    let member = find_member(cd, directory.entries)?;
    read_member(windows, &member, directory.offset, limits)
}

fn find_directory(windows: &Windows) -> Result<Directory, Step> {
    let len = windows.len();
    let search = len.min(EOCD_LEN + MAX_COMMENT);
    let no_end = ZipProblem::NoEndRecord(search);
    if search < EOCD_LEN {
        return Err(no_end.into());
    }
    let start = len - search;
    let tail = windows.get(start, search, no_end.clone())?;
    // The last signature whose comment ends exactly at the end of the file.
    let at = (0..=tail.len().saturating_sub(EOCD_LEN as usize))
        .rev()
        .find(|&i| {
            u32_at(tail, i) == Some(EOCD_SIG)
                && u16_at(tail, i + 20)
                    .is_some_and(|comment| i as u64 + EOCD_LEN + u64::from(comment) == search)
        })
        .ok_or(no_end)?;
    let field16 = |o| u16_at(tail, at + o).unwrap_or(0);
    let field32 = |o| u32_at(tail, at + o).unwrap_or(0);
    let eocd_offset = start + at as u64;
    let (disk, cd_disk) = (field16(4), field16(6));
    let entries = field16(10);
    let (size, offset) = (field32(12), field32(16));
    if entries != 0xFFFF && size != u32::MAX && offset != u32::MAX {
        if disk != 0 || cd_disk != 0 || field16(8) != entries {
            return Err(ZipProblem::MultiDisk.into());
        }
        return Ok(Directory {
            offset: u64::from(offset),
            size: u64::from(size),
            entries: u64::from(entries),
            end: eocd_offset,
        });
    }
    // zip64: a locator right before the record points at the zip64 end record.
    let locator_at = eocd_offset
        .checked_sub(ZIP64_LOCATOR_LEN)
        .ok_or(ZipProblem::BadZip64)?;
    let locator = windows.get(locator_at, ZIP64_LOCATOR_LEN, ZipProblem::BadZip64)?;
    if u32_at(locator, 0) != Some(ZIP64_LOCATOR_SIG) {
        return Err(ZipProblem::BadZip64.into());
    }
    if u32_at(locator, 4) != Some(0) || u32_at(locator, 16) != Some(1) {
        return Err(ZipProblem::MultiDisk.into());
    }
    let record_at = u64_at(locator, 8).ok_or(ZipProblem::BadZip64)?;
    if record_at
        .checked_add(ZIP64_EOCD_LEN)
        .is_none_or(|end| end > locator_at)
    {
        return Err(ZipProblem::BadZip64.into());
    }
    let record = windows.get(record_at, ZIP64_EOCD_LEN, ZipProblem::BadZip64)?;
    if u32_at(record, 0) != Some(ZIP64_EOCD_SIG) {
        return Err(ZipProblem::BadZip64.into());
    }
    let r32 = |o| u32_at(record, o).ok_or(ZipProblem::BadZip64);
    let r64 = |o| u64_at(record, o).ok_or(ZipProblem::BadZip64);
    if r32(16)? != 0 || r32(20)? != 0 || r64(24)? != r64(32)? {
        return Err(ZipProblem::MultiDisk.into());
    }
    Ok(Directory {
        entries: r64(32)?,
        size: r64(40)?,
        offset: r64(48)?,
        end: record_at,
    })
}

/// A top-level `<something>.dist-info/METADATA` (PEP 427: the one `.dist-info` directory).
fn is_metadata_name(name: &[u8]) -> bool {
    let Some(dir) = name.strip_suffix(b"/METADATA") else {
        return false;
    };
    dir.ends_with(b".dist-info") && !dir.contains(&b'/') && dir.len() > b".dist-info".len()
}

fn find_member(cd: &[u8], entries: u64) -> Result<Member, Step> {
    let mut found = Vec::new();
    let mut at = 0usize;
    let mut index = 0u64;
    // The count is the server's claim; the bytes of the directory bound the loop either way.
    while at < cd.len() && index < entries {
        let bad = || ZipProblem::BadEntry(index);
        if u32_at(cd, at) != Some(CENTRAL_SIG) {
            return Err(bad().into());
        }
        let f16 = |o: usize| u16_at(cd, at + o).ok_or_else(bad);
        let f32 = |o: usize| u32_at(cd, at + o).ok_or_else(bad);
        let (name_len, extra_len, comment_len) = (f16(28)?, f16(30)?, f16(32)?);
        let name_at = at + CENTRAL_HEADER_LEN;
        let extra_at = name_at + usize::from(name_len);
        let next = extra_at + usize::from(extra_len) + usize::from(comment_len);
        let name = cd.get(name_at..extra_at).ok_or_else(bad)?;
        let extra = cd
            .get(extra_at..extra_at + usize::from(extra_len))
            .ok_or_else(bad)?;
        if next > cd.len() {
            return Err(bad().into());
        }
        if is_metadata_name(name) {
            let mut member = Member {
                flags: f16(8)?,
                method: f16(10)?,
                crc32: f32(16)?,
                compressed: u64::from(f32(20)?),
                uncompressed: u64::from(f32(24)?),
                local_offset: u64::from(f32(42)?),
                name_len: u64::from(name_len),
                extra_len: u64::from(extra_len),
            };
            apply_zip64_extra(&mut member, extra).ok_or_else(bad)?;
            found.push(member);
        }
        at = next;
        index += 1;
    }
    match found.len() {
        0 => Err(ZipProblem::NoMetadata.into()),
        1 => Ok(found.remove(0)),
        n => Err(ZipProblem::SeveralMetadata(n).into()),
    }
}

/// The zip64 extended information field (id 1) holds, in this order, the sizes and offset
/// whose 32-bit fields are saturated.
fn apply_zip64_extra(member: &mut Member, extra: &[u8]) -> Option<()> {
    let saturated = |v: u64| v == u64::from(u32::MAX);
    if !saturated(member.uncompressed)
        && !saturated(member.compressed)
        && !saturated(member.local_offset)
    {
        return Some(());
    }
    let mut at = 0usize;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at)?;
        let size = usize::from(u16_at(extra, at + 2)?);
        let data = extra.get(at + 4..at + 4 + size)?;
        if id == 1 {
            let mut field = 0usize;
            let mut next = || {
                let value = u64_at(data, field);
                field += 8;
                value
            };
            if saturated(member.uncompressed) {
                member.uncompressed = next()?;
            }
            if saturated(member.compressed) {
                member.compressed = next()?;
            }
            if saturated(member.local_offset) {
                member.local_offset = next()?;
            }
            return Some(());
        }
        at += 4 + size;
    }
    None
}

fn read_member(
    windows: &Windows,
    member: &Member,
    directory_offset: u64,
    limits: ZipLimits,
) -> Result<Vec<u8>, Step> {
    if member.flags & 1 != 0 {
        return Err(ZipProblem::Encrypted.into());
    }
    if member.method != 0 && member.method != 8 {
        return Err(ZipProblem::Method(member.method).into());
    }
    for size in [member.compressed, member.uncompressed] {
        if size > limits.member {
            return Err(ZipProblem::MemberTooLarge {
                size,
                limit: limits.member,
            }
            .into());
        }
    }
    let bad_header = ZipProblem::BadLocalHeader(member.local_offset);
    // Ask for the header with the name and extra the central directory gives, and the data,
    // in one range: the local extra field is usually the same length.
    let guess = LOCAL_HEADER_LEN + member.name_len + member.extra_len + member.compressed;
    let header = match windows.get(member.local_offset, LOCAL_HEADER_LEN, bad_header.clone()) {
        Err(Step::Need { offset, .. }) => {
            let len = guess.min(directory_offset.saturating_sub(offset));
            return Err(Step::Need {
                offset,
                len: len.max(LOCAL_HEADER_LEN),
            });
        }
        other => other?,
    };
    if u32_at(header, 0) != Some(LOCAL_SIG) {
        return Err(bad_header.into());
    }
    let name_len = u64::from(u16_at(header, 26).ok_or(bad_header.clone())?);
    let extra_len = u64::from(u16_at(header, 28).ok_or(bad_header.clone())?);
    let data_at = member.local_offset + LOCAL_HEADER_LEN + name_len + extra_len;
    if data_at
        .checked_add(member.compressed)
        .is_none_or(|end| end > directory_offset)
    {
        return Err(bad_header.into());
    }
    let data = windows.get(data_at, member.compressed, bad_header)?;
    inflate(data, member).map_err(Step::Bad)
}

fn inflate(data: &[u8], member: &Member) -> Result<Vec<u8>, ZipProblem> {
    let expected = usize::try_from(member.uncompressed).map_err(|_| ZipProblem::BadData)?;
    let out = if member.method == 0 {
        data.to_vec()
    } else {
        let mut out = Vec::with_capacity(expected.min(1 << 20));
        // One byte more than recorded: a longer stream is caught, not read on.
        flate2::read::DeflateDecoder::new(data)
            .take(member.uncompressed.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|_| ZipProblem::BadData)?;
        out
    };
    let mut crc = flate2::Crc::new();
    crc.update(&out);
    if out.len() != expected || crc.sum() != member.crc32 {
        return Err(ZipProblem::BadData);
    }
    Ok(out)
}
