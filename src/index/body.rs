//! Listing bodies, read with a bound. A page is held in memory to be parsed, so an index
//! that answers with an endless (or absurdly long) page must not take all of it.

use futures::{Stream, StreamExt};
use reqwest::Response;
use url::Url;

use super::error::IndexError;
use super::http::transport_error;
use super::safe_url::redact;

/// Far above any real project page (100,000 files make about 10 MiB of HTML).
pub(super) const MAX_LISTING_BYTES: usize = 256 << 20;

/// The body of a listing, at most [`MAX_LISTING_BYTES`], as UTF-8 (PEP 503 and PEP 691
/// pages are UTF-8; anything else is replaced, never a reason to stop).
pub(super) async fn listing_text(url: &Url, response: Response) -> Result<String, IndexError> {
    let too_long = || IndexError::BadResponse {
        url: redact(url),
        detail: format!(
            "the listing is longer than {} MiB; refusing to read it",
            MAX_LISTING_BYTES >> 20
        ),
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_LISTING_BYTES as u64)
    {
        return Err(too_long());
    }
    match collect_limited(response.bytes_stream(), MAX_LISTING_BYTES).await {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(Limited::TooLong) => Err(too_long()),
        Err(Limited::Stream(e)) => Err(transport_error(url, &e)),
    }
}

/// What an error answer's body is read for: devpi's `message`, a reason for the log. The
/// first [`MAX_ERROR_BYTES`] are enough; the rest is not read (an endless error page must
/// not hold the run), and a body that breaks off leaves what came.
const MAX_ERROR_BYTES: usize = 64 << 10;

pub(crate) async fn error_text(response: Response) -> String {
    let mut stream = std::pin::pin!(response.bytes_stream());
    let mut out: Vec<u8> = Vec::new();
    while out.len() < MAX_ERROR_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let room = MAX_ERROR_BYTES - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Some(Err(_)) | None => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, PartialEq)]
enum Limited<E> {
    TooLong,
    Stream(E),
}

/// Collects a byte stream, stopping as soon as it passes `limit` bytes.
async fn collect_limited<S, B, E>(stream: S, limit: usize) -> Result<Vec<u8>, Limited<E>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Limited::Stream)?;
        let chunk = chunk.as_ref();
        if out.len().saturating_add(chunk.len()) > limit {
            return Err(Limited::TooLong);
        }
        out.extend_from_slice(chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize, size: usize) -> impl Stream<Item = Result<Vec<u8>, ()>> {
        futures::stream::iter((0..n).map(move |_| Ok(vec![b'x'; size])))
    }

    #[tokio::test]
    async fn stops_at_the_limit() {
        assert_eq!(collect_limited(chunks(4, 10), 40).await.unwrap().len(), 40);
        assert_eq!(
            collect_limited(chunks(5, 10), 40).await,
            Err(Limited::TooLong)
        );
        // An endless stream ends at the limit, not at its end.
        let endless = futures::stream::repeat_with(|| Ok::<_, ()>(vec![0u8; 1024]));
        assert_eq!(
            collect_limited(endless, 1 << 20).await,
            Err(Limited::TooLong)
        );
    }
}
