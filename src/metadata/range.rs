//! HTTP range requests into a remote wheel: the tail, then the central directory and the
//! METADATA member if the tail did not hold them (RFC 9110 ranges; what uv does, and pip's
//! `--use-feature=fast-deps`).
//!
//! The first request is a suffix range (`bytes=-N`), which also tells the file's length
//! (`Content-Range: bytes a-b/LEN`), so no HEAD is needed. A server that ignores `Range`
//! answers 200 with the whole file: that response is handed back unread, for the caller to
//! stream into the store, so the file is read once. Every later answer must be a 206 for
//! exactly the range asked, of a file of the same length; anything else ends the attempt.

use futures::StreamExt;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_RANGE, RANGE};
use reqwest::{Response, StatusCode};
use url::Url;

use super::zip::{Step, TAIL_LEN, Windows, ZipLimits, ZipProblem, read_metadata};
use crate::index::HttpClient;
use crate::index::http::transport_error;

/// More range requests than this after the tail mean something is off.
const MAX_FOLLOW_UPS: u32 = 4;

/// What the range reads came to.
#[derive(Debug)]
pub enum RangeRead {
    /// The METADATA member, and what reading it cost.
    Metadata {
        bytes: Vec<u8>,
        requests: u32,
        received: u64,
    },
    /// The server ignored `Range` and is sending the whole file (a 200, body unread).
    WholeFile(Response),
    /// Ranges did not give the member; the caller downloads the file instead.
    Unusable(RangeFailure),
}

/// Why the range path gave up (kept for the log; never fatal on its own).
#[derive(Debug, thiserror::Error)]
pub enum RangeFailure {
    #[error("answered HTTP {0} to a range request")]
    Status(u16),
    #[error("a 206 without a usable Content-Range ({0:?})")]
    ContentRange(String),
    #[error("asked for bytes {asked:?}, got {got:?}")]
    WrongRange {
        asked: (u64, u64),
        got: (u64, u64, u64),
    },
    #[error("the file is {listed} bytes by the listing, {served} by the server")]
    Length { listed: u64, served: u64 },
    #[error("the body of a range answer is not the length of its range")]
    BodyLength,
    #[error("{0}")]
    Transport(String),
    #[error("{0}")]
    Zip(#[from] ZipProblem),
    #[error("still incomplete after {0} range requests")]
    TooManyRequests(u32),
}

/// Reads METADATA from the wheel at `url` with range requests. `listed_size` (PEP 700)
/// must agree with the length the server gives.
pub async fn read_remote_metadata(
    client: &HttpClient,
    url: &Url,
    listed_size: Option<u64>,
    limits: ZipLimits,
) -> RangeRead {
    match read(client, url, listed_size, limits).await {
        Ok(read) => read,
        Err(failure) => RangeRead::Unusable(failure),
    }
}

async fn read(
    client: &HttpClient,
    url: &Url,
    listed_size: Option<u64>,
    limits: ZipLimits,
) -> Result<RangeRead, RangeFailure> {
    let response = get(client, url, &format!("bytes=-{TAIL_LEN}")).await?;
    if response.status() == StatusCode::OK {
        return Ok(RangeRead::WholeFile(response));
    }
    let (start, end, len) = content_range(&response)?;
    if end.checked_add(1) != Some(len) || len.saturating_sub(TAIL_LEN) != start {
        return Err(RangeFailure::WrongRange {
            asked: (len.saturating_sub(TAIL_LEN), len.saturating_sub(1)),
            got: (start, end, len),
        });
    }
    if let Some(listed) = listed_size
        && listed != len
    {
        return Err(RangeFailure::Length {
            listed,
            served: len,
        });
    }
    let mut windows = Windows::new(len);
    let mut received = end - start + 1;
    windows.insert(start, body(url, response, received).await?);
    let mut requests = 1;
    loop {
        match read_metadata(&windows, limits) {
            Ok(bytes) => {
                return Ok(RangeRead::Metadata {
                    bytes,
                    requests,
                    received,
                });
            }
            Err(Step::Bad(problem)) => return Err(problem.into()),
            Err(Step::Need { .. }) if requests > MAX_FOLLOW_UPS => {
                return Err(RangeFailure::TooManyRequests(requests));
            }
            Err(Step::Need { offset, len: n }) => {
                // `read_metadata` asks only within the file, for at most the caps.
                let n = n.max(1);
                let last = offset + n - 1;
                let response = get(client, url, &format!("bytes={offset}-{last}")).await?;
                if response.status() == StatusCode::OK {
                    return Ok(RangeRead::WholeFile(response));
                }
                let got = content_range(&response)?;
                if got != (offset, last, len) {
                    return Err(RangeFailure::WrongRange {
                        asked: (offset, last),
                        got,
                    });
                }
                windows.insert(offset, body(url, response, n).await?);
                requests += 1;
                received += n;
            }
        }
    }
}

async fn get(client: &HttpClient, url: &Url, range: &str) -> Result<Response, RangeFailure> {
    let response = client
        .reqwest()
        .get(url.clone())
        .headers(client.auth_headers(url))
        .header(RANGE, range)
        // A range of an encoded body is a range of the encoding.
        .header(ACCEPT_ENCODING, "identity")
        .send()
        .await
        .map_err(|e| RangeFailure::Transport(transport_error(url, &e).to_string()))?;
    match response.status() {
        StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(response),
        status => Err(RangeFailure::Status(status.as_u16())),
    }
}

/// `Content-Range: bytes START-END/LEN` (RFC 9110 §14.4) of a 206.
fn content_range(response: &Response) -> Result<(u64, u64, u64), RangeFailure> {
    let value = response
        .headers()
        .get(CONTENT_RANGE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    parse_content_range(&value).ok_or(RangeFailure::ContentRange(value))
}

pub(crate) fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, len) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (start, end, len) = (number(start)?, number(end)?, number(len)?);
    (start <= end && end < len).then_some((start, end, len))
}

/// Exactly `expected` bytes of body: a longer one is cut off, a shorter one refused.
async fn body(url: &Url, response: Response, expected: u64) -> Result<Vec<u8>, RangeFailure> {
    if response.content_length().is_some_and(|n| n != expected) {
        return Err(RangeFailure::BodyLength);
    }
    let mut out = Vec::with_capacity(usize::try_from(expected.min(1 << 20)).unwrap_or(0));
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| RangeFailure::Transport(transport_error(url, &e).to_string()))?;
        if (out.len() as u64).saturating_add(chunk.len() as u64) > expected {
            return Err(RangeFailure::BodyLength);
        }
        out.extend_from_slice(&chunk);
    }
    if out.len() as u64 != expected {
        return Err(RangeFailure::BodyLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(
            parse_content_range("bytes 100-199/1000"),
            Some((100, 199, 1000))
        );
        for bad in [
            "",
            "bytes */10",
            "bytes 0-9/*",
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes -1-9/10",
            "bytes +0-9/10",
            "items 0-9/10",
            "bytes 0-99999999999999999999/10",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
    }
}
