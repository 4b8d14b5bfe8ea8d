//! HTTP/1.1 on a bare TCP socket, for what a client library will not send: a body that stalls half-way, a
//! malformed chunk, a request on a connection the server is closing. It reads what the server writes until the
//! server closes the connection, so a test sees every answer and whether (and when) the connection ended.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A chunked `POST` whose body stops in the middle of its first chunk and never goes on.
pub fn stalled_chunked_post(path: &str, headers: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}\
         Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"qr_"
    )
}

/// A chunked `POST` whose first chunk size is `size` (not hexadecimal, or too large for any length).
pub fn bad_chunk_post(path: &str, headers: &str, size: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}\
         Transfer-Encoding: chunked\r\n\r\n{size}\r\n{{}}\r\n0\r\n\r\n"
    )
}

/// What came back on one connection.
#[derive(Debug)]
pub struct RawAnswer {
    /// Everything the server wrote, lossily decoded.
    pub text: String,
    /// The server closed the connection (FIN or reset) within the time given.
    pub closed: bool,
    /// From the request's last byte to the close (or to giving up).
    pub elapsed: Duration,
}

impl RawAnswer {
    /// The status of each response on the connection, in order.
    pub fn statuses(&self) -> Vec<u16> {
        self.text
            .split("HTTP/1.1 ")
            .skip(1)
            .filter_map(|rest| rest.get(..3))
            .filter_map(|code| code.parse().ok())
            .collect()
    }

    /// The first response's header `name` (lower case), if it has one.
    pub fn header(&self, name: &str) -> Option<&str> {
        let head = self.text.split("\r\n\r\n").next()?;
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The first response's body (whatever follows its head; the services answer errors with `Content-Length`).
    pub fn body(&self) -> &str {
        self.text.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }
}

/// Opens a connection to `addr` (`host:port`) and writes `request`.
pub async fn send(addr: &str, request: &str) -> TcpStream {
    let mut conn = TcpStream::connect(addr).await.expect("connect to the server");
    conn.write_all(request.as_bytes()).await.expect("write the request");
    conn
}

/// Reads until the server closes `conn`, for at most `within`.
pub async fn read_until_closed(mut conn: TcpStream, within: Duration) -> RawAnswer {
    let started = Instant::now();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        let Some(left) = within.checked_sub(started.elapsed()) else { break false };
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => break false,
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
        }
    };
    RawAnswer { text: String::from_utf8_lossy(&bytes).into_owned(), closed, elapsed: started.elapsed() }
}

/// Reads one whole response from `conn` (its head and a `Content-Length` body), leaving the connection open.
pub async fn read_response(conn: &mut TcpStream, within: Duration) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            let text = String::from_utf8_lossy(&bytes);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let answer = RawAnswer { text: head.to_owned(), closed: false, elapsed: Duration::ZERO };
                let length: usize = answer.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                if body.len() >= length {
                    return text.into_owned();
                }
            }
            let n = conn.read(&mut buf).await.expect("read the response");
            assert!(n > 0, "the connection closed before a whole response: {text:?}");
            bytes.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a whole response in time")
}

/// [`send`] then [`read_until_closed`].
pub async fn exchange(addr: &str, request: &str, within: Duration) -> RawAnswer {
    read_until_closed(send(addr, request).await, within).await
}

/// How many descriptors this process has open (Linux): a server in the test process that leaks connections
/// shows here.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// Longest a stalled request may hold its connection: the body deadline, then the linger after the answer,
/// plus slack for a loaded machine.
pub const CLOSE_BOUND: Duration =
    Duration::from_secs(crate::http::BODY_TIMEOUT.as_secs() + crate::server::LINGER.as_secs() + 3);

/// Holds `count` connections to `addr` at once, each sending `request` (which never completes), and checks that
/// every one was answered `status` problem+json and closed by the server within [`CLOSE_BOUND`], and that this
/// process's descriptors (the server runs in it) came back.
pub async fn assert_held_connections_end(addr: &str, request: &str, count: usize, status: u16) {
    // Arrange
    let before = open_fds();
    let mut conns = Vec::with_capacity(count);
    for _ in 0..count {
        conns.push(send(addr, request).await);
    }

    // Act
    let mut reading = tokio::task::JoinSet::new();
    for conn in conns {
        reading.spawn(read_until_closed(conn, CLOSE_BOUND));
    }
    let answers = reading.join_all().await;

    // Assert
    for answer in &answers {
        assert!(answer.closed, "still open after {:?}: {answer:?}", answer.elapsed);
        assert_eq!(answer.statuses().first(), Some(&status), "{answer:?}");
        assert_eq!(answer.header("content-type"), Some("application/problem+json"), "{answer:?}");
    }
    // Other tests of the binary open and close descriptors meanwhile: a leak of these connections is `count`.
    let settled = async {
        while open_fds() > before + count / 4 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let back = tokio::time::timeout(Duration::from_secs(3), settled).await;
    assert!(back.is_ok(), "descriptors did not come back: {before} before, {} after", open_fds());
}

/// A chunked `POST` to `path` whose chunk size is not hexadecimal, and one whose size overflows any length: each
/// is answered 400 problem+json (and nothing else) and its connection closed.
pub async fn assert_bad_chunk_sizes_refused(addr: &str, path: &str, headers: &str) {
    for size in ["zz", "1ffffffffffffffffffff"] {
        let answer = exchange(addr, &bad_chunk_post(path, headers, size), CLOSE_BOUND).await;
        assert!(answer.closed, "chunk size {size}: still open: {answer:?}");
        assert_eq!(answer.statuses(), [400], "chunk size {size}: {answer:?}");
        assert_eq!(answer.header("content-type"), Some("application/problem+json"), "chunk size {size}: {answer:?}");
        assert!(answer.body().contains("urn:qrlogin:problem:"), "chunk size {size}: {answer:?}");
    }
}

/// A client on a kept-alive connection to `addr` sends `GET path` just after `stopper` began stopping the
/// instance: it gets a whole answer saying `Connection: close`, and then the connection ends.
pub async fn assert_request_answered_while_stopping(addr: &str, stopper: crate::server::Stopper, path: &str) {
    // Arrange: one request answered, the connection kept alive.
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut conn = send(addr, &request).await;
    let first = read_response(&mut conn, Duration::from_secs(5)).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");

    // Act
    let stopping = tokio::spawn(async move { stopper.stop().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.write_all(request.as_bytes()).await.expect("write the second request");
    let answer = read_until_closed(conn, Duration::from_secs(5)).await;

    // Assert
    assert_eq!(answer.statuses(), [200], "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    let length: usize = answer.header("content-length").and_then(|v| v.parse().ok()).expect("Content-Length");
    assert_eq!(answer.body().len(), length, "a whole answer: {answer:?}");
    assert!(answer.closed, "{answer:?}");
    stopping.await.expect("the stop completes");
}
