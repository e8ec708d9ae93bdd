//! The zip reader over parts of a file: honest wheels (stored, deflated, zip64, comments),
//! hostile ones (lying sizes and offsets), and property tests that it never panics and never
//! answers anything but the real METADATA.

use std::io::{Cursor, Write};

use proptest::prelude::*;

use super::zip::{Step, TAIL_LEN, Windows, ZipLimits, ZipProblem, read_metadata};

const METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: ww-x\nVersion: 1.0\nRequires-Dist: ww-y>=2\n";

struct Member<'a> {
    name: &'a str,
    data: &'a [u8],
    deflate: bool,
}

fn zip_of(members: &[Member<'_>], comment: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for m in members {
        let method = if m.deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file(m.name, options).unwrap();
        zip.write_all(m.data).unwrap();
    }
    zip.set_raw_comment(comment.to_vec().into_boxed_slice())
        .unwrap();
    zip.finish().unwrap().into_inner()
}

fn wheel(padding: &[u8], deflate: bool) -> Vec<u8> {
    zip_of(
        &[
            Member {
                name: "ww_x/data.bin",
                data: padding,
                deflate: false,
            },
            Member {
                name: "ww_x-1.0.dist-info/METADATA",
                data: METADATA,
                deflate,
            },
            Member {
                name: "ww_x-1.0.dist-info/WHEEL",
                data: b"Wheel-Version: 1.0\n",
                deflate,
            },
        ],
        b"",
    )
}

/// Reads as the HTTP driver does: the tail first, then each range asked for. Returns the
/// result, the number of reads and the bytes read.
fn read_in_parts(file: &[u8], limits: ZipLimits) -> (Result<Vec<u8>, ZipProblem>, u32, u64) {
    let len = file.len() as u64;
    let mut windows = Windows::new(len);
    let start = len.saturating_sub(TAIL_LEN);
    windows.insert(start, file[start as usize..].to_vec());
    let (mut reads, mut bytes) = (1, len - start);
    loop {
        match read_metadata(&windows, limits) {
            Ok(found) => return (Ok(found), reads, bytes),
            Err(Step::Bad(problem)) => return (Err(problem), reads, bytes),
            Err(Step::Need { offset, len: n }) => {
                assert!(reads < 8, "too many reads");
                assert!(offset + n <= len, "asked outside the file");
                windows.insert(
                    offset,
                    file[offset as usize..(offset + n) as usize].to_vec(),
                );
                reads += 1;
                bytes += n;
            }
        }
    }
}

fn whole(file: &[u8]) -> Result<Vec<u8>, ZipProblem> {
    match read_metadata(&Windows::whole(file.to_vec()), ZipLimits::default()) {
        Ok(found) => Ok(found),
        Err(Step::Bad(problem)) => Err(problem),
        Err(Step::Need { offset, len }) => panic!("the whole file needs {len} bytes at {offset}"),
    }
}

#[test]
fn reads_stored_and_deflated_metadata() {
    for deflate in [false, true] {
        assert_eq!(whole(&wheel(b"abc", deflate)).as_deref(), Ok(METADATA));
    }
}

#[test]
fn a_big_wheel_costs_a_small_part() {
    // 1 MiB of data before the dist-info, as in the ww_big fixture.
    let padding: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let file = wheel(&padding, true);
    let (found, reads, bytes) = read_in_parts(&file, ZipLimits::default());
    assert_eq!(found.as_deref(), Ok(METADATA));
    assert_eq!(reads, 1, "the tail holds the directory and the member");
    assert!(bytes <= TAIL_LEN, "{bytes} bytes read");
}

#[test]
fn metadata_far_from_the_end_takes_one_more_read() {
    let padding: Vec<u8> = vec![7; 300_000];
    let file = zip_of(
        &[
            Member {
                name: "ww_x-1.0.dist-info/METADATA",
                data: METADATA,
                deflate: true,
            },
            Member {
                name: "ww_x/data.bin",
                data: &padding,
                deflate: false,
            },
        ],
        b"",
    );
    let (found, reads, bytes) = read_in_parts(&file, ZipLimits::default());
    assert_eq!(found.as_deref(), Ok(METADATA));
    assert_eq!(reads, 2);
    assert!(bytes < TAIL_LEN + 1024, "{bytes} bytes read");
}

#[test]
fn a_comment_of_the_longest_length_is_fine() {
    let mut file = wheel(b"x", true);
    // Rewrite the comment length and append 65535 bytes that contain a fake signature.
    let eocd = file.len() - 22;
    file[eocd + 20..eocd + 22].copy_from_slice(&0xFFFFu16.to_le_bytes());
    let mut comment = vec![b'c'; 0xFFFF];
    comment[100..104].copy_from_slice(&0x0605_4b50u32.to_le_bytes());
    file.extend_from_slice(&comment);
    assert_eq!(whole(&file).as_deref(), Ok(METADATA));
    assert_eq!(
        read_in_parts(&file, ZipLimits::default()).0.as_deref(),
        Ok(METADATA)
    );
}

/// Rewrites a plain zip's end record as zip64: a zip64 end record and locator before an
/// end record whose fields are saturated.
fn as_zip64(mut file: Vec<u8>) -> Vec<u8> {
    let eocd = file.len() - 22;
    let field = |o: usize, n: usize| {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&file[eocd + o..eocd + o + n]);
        u64::from_le_bytes(v)
    };
    let (entries, size, offset) = (field(10, 2), field(12, 4), field(16, 4));
    file.truncate(eocd);
    let record_at = file.len() as u64;
    let mut record = Vec::new();
    record.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
    record.extend_from_slice(&44u64.to_le_bytes());
    record.extend_from_slice(&[45, 0, 45, 0]);
    record.extend_from_slice(&[0; 8]);
    for v in [entries, entries, size, offset] {
        record.extend_from_slice(&v.to_le_bytes());
    }
    file.extend_from_slice(&record);
    file.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&record_at.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    file.extend_from_slice(&[0; 4]);
    file.extend_from_slice(&[0xFF; 4]);
    file.extend_from_slice(&[0xFF; 8]);
    file.extend_from_slice(&[0; 2]);
    file
}

#[test]
fn reads_zip64_end_records() {
    let file = as_zip64(wheel(b"abc", true));
    assert_eq!(whole(&file).as_deref(), Ok(METADATA));
    assert_eq!(
        read_in_parts(&file, ZipLimits::default()).0.as_deref(),
        Ok(METADATA)
    );
}

/// The offset of the end record's field at `o`.
fn eocd_field(file: &[u8], o: usize) -> usize {
    file.len() - 22 + o
}

#[test]
fn refuses_a_huge_central_directory_without_reading_it() {
    let mut file = wheel(b"abc", true);
    let at = eocd_field(&file, 12);
    file[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let (found, reads, _) = read_in_parts(&file, ZipLimits::default());
    assert!(
        matches!(found, Err(ZipProblem::DirectoryTooLarge { .. })),
        "{found:?}"
    );
    assert_eq!(reads, 1);
    let limits = ZipLimits {
        central_directory: 1 << 40,
        ..ZipLimits::default()
    };
    assert!(matches!(
        read_in_parts(&file, limits).0,
        Err(ZipProblem::DirectoryOutside { .. })
    ));
}

#[test]
fn refuses_lying_members() {
    let file = wheel(b"abc", true);
    let cd_at = {
        let at = eocd_field(&file, 16);
        u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize
    };
    // The METADATA entry is the second in the directory.
    let first_len = 46 + "ww_x/data.bin".len();
    let entry = cd_at + first_len;
    let patched = |o: usize, bytes: &[u8]| {
        let mut f = file.clone();
        f[entry + o..entry + o + bytes.len()].copy_from_slice(bytes);
        f
    };
    let huge = patched(24, &0x7FFF_FFFFu32.to_le_bytes());
    assert!(matches!(
        whole(&huge),
        Err(ZipProblem::MemberTooLarge { .. })
    ));
    let crc = patched(16, &0u32.to_le_bytes());
    assert_eq!(whole(&crc), Err(ZipProblem::BadData));
    let method = patched(10, &12u16.to_le_bytes());
    assert_eq!(whole(&method), Err(ZipProblem::Method(12)));
    let outside = patched(42, &0x7FFF_FFF0u32.to_le_bytes());
    assert!(matches!(
        whole(&outside),
        Err(ZipProblem::BadLocalHeader(_))
    ));
    let encrypted = patched(8, &1u16.to_le_bytes());
    assert_eq!(whole(&encrypted), Err(ZipProblem::Encrypted));
}

#[test]
fn wants_exactly_one_top_level_metadata() {
    let two = zip_of(
        &[
            Member {
                name: "a-1.0.dist-info/METADATA",
                data: METADATA,
                deflate: false,
            },
            Member {
                name: "b-1.0.dist-info/METADATA",
                data: METADATA,
                deflate: false,
            },
        ],
        b"",
    );
    assert_eq!(whole(&two), Err(ZipProblem::SeveralMetadata(2)));
    let nested = zip_of(
        &[Member {
            name: "pkg/vendored-1.0.dist-info/METADATA",
            data: METADATA,
            deflate: false,
        }],
        b"",
    );
    assert_eq!(whole(&nested), Err(ZipProblem::NoMetadata));
    assert!(matches!(
        whole(b"not a zip"),
        Err(ZipProblem::NoEndRecord(_))
    ));
    assert!(matches!(whole(b""), Err(ZipProblem::NoEndRecord(_))));
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = whole(&bytes);
        let _ = read_in_parts(&bytes, ZipLimits::default());
    }

    #[test]
    fn a_damaged_wheel_gives_the_metadata_or_a_problem(
        padding in proptest::collection::vec(any::<u8>(), 0..2048),
        deflate in any::<bool>(),
        zip64 in any::<bool>(),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut file = wheel(&padding, deflate);
        if zip64 {
            file = as_zip64(file);
        }
        for (at, byte) in damage {
            let i = at.index(file.len());
            file[i] = byte;
        }
        if let Ok(found) = whole(&file) {
            prop_assert_eq!(found.as_slice(), METADATA);
        }
        if let Ok(found) = read_in_parts(&file, ZipLimits::default()).0 {
            prop_assert_eq!(found.as_slice(), METADATA);
        }
    }

    #[test]
    fn parts_read_the_same_as_the_whole(
        metadata in proptest::collection::vec(any::<u8>(), 0..3000),
        padding_len in 0usize..200_000,
        before in any::<bool>(),
        deflate in any::<bool>(),
        comment in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let padding = vec![3u8; padding_len];
        let meta = Member { name: "p-1.dist-info/METADATA", data: &metadata, deflate };
        let pad = Member { name: "p/pad", data: &padding, deflate: false };
        let members = if before { [meta, pad] } else { [pad, meta] };
        let file = zip_of(&members, &comment);
        prop_assert_eq!(whole(&file), Ok(metadata.clone()));
        let (found, reads, bytes) = read_in_parts(&file, ZipLimits::default());
        prop_assert_eq!(found, Ok(metadata.clone()));
        prop_assert!(reads <= 2);
        prop_assert!(bytes <= TAIL_LEN + metadata.len() as u64 + 200);
    }
}
