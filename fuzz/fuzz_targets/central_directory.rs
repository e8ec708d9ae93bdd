//! A remote wheel read by parts (the HTTP range path): whatever the bytes, reading METADATA
//! from them fails or succeeds, never panics, and never asks for a range outside the file.
//! The input is the whole file; it is read first as one part, then as the range driver reads
//! it (the tail, then each range asked for).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelwright::metadata::zip::{Step, TAIL_LEN, Windows, ZipLimits, read_metadata};

fuzz_target!(|data: &[u8]| {
    let limits = ZipLimits {
        central_directory: 1 << 20,
        member: 1 << 20,
    };
    if let Err(Step::Need { .. }) = read_metadata(&Windows::whole(data.to_vec()), limits) {
        panic!("the whole file cannot need more");
    }
    let len = data.len() as u64;
    let start = len.saturating_sub(TAIL_LEN);
    let mut windows = Windows::new(len);
    windows.insert(start, data[start as usize..].to_vec());
    for _ in 0..8 {
        match read_metadata(&windows, limits) {
            Err(Step::Need { offset, len: n }) => {
                let end = offset.checked_add(n).expect("a range that does not wrap");
                assert!(end <= len, "asked for bytes outside the file");
                windows.insert(offset, data[offset as usize..end as usize].to_vec());
            }
            _ => return,
        }
    }
});
