//! A browser's `EventSource`, by hand: the response body read chunk by chunk and split into Server-Sent Events
//! (`id:`, `event:`, `data:` lines, a blank line ends an event, lines starting with ':' are comments).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// One dispatched event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// The `id:` of this event, if it carried one.
    pub id: Option<String>,
    /// The `event:` name, if any (the browser would then call it `message`).
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
}

impl SseEvent {
    /// The data parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }

    /// The id, which must be there.
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_else(|| panic!("event without id: {self:?}"))
    }
}

/// An open event stream (status 200).
#[derive(Debug)]
pub struct EventStream {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The last `retry:` advice, in milliseconds.
    pub retry_ms: Option<u64>,
    /// Comment lines seen so far (heartbeats), without the ':'.
    pub comments: Vec<String>,
    res: reqwest::Response,
    /// Bytes received but not yet split into lines.
    buf: Vec<u8>,
    /// Fields of the event being read.
    pending: Pending,
    ended: bool,
}

#[derive(Debug, Default)]
struct Pending {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl EventStream {
    pub(crate) fn new(res: reqwest::Response) -> Self {
        Self {
            status: res.status(),
            headers: res.headers().clone(),
            retry_ms: None,
            comments: Vec::new(),
            res,
            buf: Vec::new(),
            pending: Pending::default(),
            ended: false,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("header is ASCII"))
    }

    /// The next event, or `None` once the server has ended the stream. A transport error fails the test.
    pub async fn next(&mut self) -> Option<SseEvent> {
        self.try_next().await.expect("the event stream is readable")
    }

    /// [`EventStream::next`], with a transport error (the server died mid-stream) as an error for the test to
    /// expect.
    pub async fn try_next(&mut self) -> Result<Option<SseEvent>, reqwest::Error> {
        loop {
            while let Some(line) = self.take_line() {
                if let Some(event) = self.field(&line) {
                    return Ok(Some(event));
                }
            }
            if self.ended {
                // An event not terminated by a blank line is discarded, as a browser would.
                return Ok(None);
            }
            match self.res.chunk().await? {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => self.ended = true,
            }
        }
    }

    /// [`EventStream::next`] within `limit`, failing the test if neither an event nor the end came by then.
    #[track_caller]
    pub fn next_within(&mut self, limit: Duration) -> impl Future<Output = Option<SseEvent>> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            tokio::time::timeout(limit, self.next())
                .await
                .unwrap_or_else(|_| panic!("{caller}: no event and no end of stream within {limit:?}"))
        }
    }

    /// The next event within `limit`, which must be a `status` event; returns it.
    #[track_caller]
    pub fn next_status(&mut self, limit: Duration) -> impl Future<Output = SseEvent> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let event = tokio::time::timeout(limit, self.next())
                .await
                .unwrap_or_else(|_| panic!("{caller}: no event within {limit:?}"))
                .unwrap_or_else(|| panic!("{caller}: the stream ended where an event was expected"));
            assert_eq!(event.event.as_deref(), Some("status"), "{caller}: {event:?}");
            event
        }
    }

    /// Asserts that the server ends the stream within `limit` without sending another event.
    #[track_caller]
    pub fn expect_end(mut self, limit: Duration) -> impl Future<Output = ()> {
        let caller = std::panic::Location::caller();
        async move {
            let next = tokio::time::timeout(limit, self.next())
                .await
                .unwrap_or_else(|_| panic!("{caller}: the stream did not end within {limit:?}"));
            assert!(next.is_none(), "{caller}: expected the end of the stream, got {next:?}");
        }
    }

    /// One complete line from the buffer, without its terminator (LF or CRLF).
    fn take_line(&mut self) -> Option<String> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(String::from_utf8(line).expect("event stream lines are UTF-8"))
    }

    /// Applies one line; returns the event a blank line completes.
    fn field(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            // A block without data (e.g. `retry:` alone) dispatches nothing.
            return pending.data.map(|data| SseEvent { id: pending.id, event: pending.event, data });
        }
        if let Some(comment) = line.strip_prefix(':') {
            self.comments.push(comment.trim_start().to_owned());
            return None;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "id" => self.pending.id = Some(value.to_owned()),
            "event" => self.pending.event = Some(value.to_owned()),
            "data" => match &mut self.pending.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.pending.data = Some(value.to_owned()),
            },
            "retry" => self.retry_ms = Some(value.parse().expect("retry is a number of milliseconds")),
            other => panic!("unknown event stream field {other:?} in line {line:?}"),
        }
        None
    }
}
