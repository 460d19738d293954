//! A scripted HTTP server for failures no real S3 produces on demand (TEST-PLAN harness H1).
//!
//! Each accepted request is recorded (method, target, headers, body) and answered with the
//! next scripted [`Reply`]; when the script runs out the last reply repeats. Plain HTTP/1.1 over
//! a `TcpListener` on 127.0.0.1, so byte-level faults (early close, stall) are easy to add.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// One recorded request.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The payload: the body, with an aws-chunked encoding (chunk headers, signatures,
    /// trailers) taken off.
    pub(crate) fn payload(&self) -> Vec<u8> {
        if !self
            .header("content-encoding")
            .is_some_and(|v| v.starts_with("aws-chunked"))
        {
            return self.body.clone();
        }
        let (mut wire, mut data) = (&self.body[..], Vec::new());
        loop {
            let eol = wire
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a chunk header");
            let head = std::str::from_utf8(&wire[..eol]).expect("an ASCII chunk header");
            let size = head.split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).expect("a hex chunk size");
            wire = &wire[eol + 2..];
            if size == 0 {
                return data;
            }
            data.extend_from_slice(&wire[..size]);
            wire = &wire[size + 2..];
        }
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Close,
    /// Write these bytes as they are (a whole response, head included), then close: for
    /// heads no well-behaved server would send.
    Raw(Vec<u8>),
    /// Send the head and then nothing for this long.
    Stall(Duration),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Announce the whole body, send only its first `send` bytes, then close.
    Truncated {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        send: usize,
    },
    /// Like `Truncated`, but end with a TCP reset (SO_LINGER 0) instead of a clean close.
    Reset {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        send: usize,
    },
    /// Reset the connection (SO_LINGER 0) instead of answering, once the request was read.
    ResetBeforeAnswer,
    /// Send the head (with `headers`) announcing all of `body` and its first `send` bytes, then
    /// go quiet for `stall` and close.
    StallAfter {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        send: usize,
        stall: Duration,
    },
    /// A chunked body that never ends: `prefix`, then 64 KiB chunks of `fill` until the client
    /// goes away (or [`ENDLESS_CAP`] bytes, so the loop is bounded). `written` counts the body
    /// bytes the socket accepted. With `pace`, the chunks are 8 KiB with that pause after
    /// each: the socket buffers then stay near empty while the client reads, so `written` is
    /// close to what the client read.
    Endless {
        status: u16,
        headers: Vec<(String, String)>,
        prefix: Vec<u8>,
        fill: u8,
        written: Arc<AtomicUsize>,
        pace: Option<Duration>,
    },
    /// Announce the whole body, send its first `send` bytes, then go quiet for `stall`.
    PartialThenStall {
        status: u16,
        body: Vec<u8>,
        send: usize,
        stall: Duration,
    },
}

impl Reply {
    /// A response with a body and a content type.
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// An S3 `<Error>` document.
    pub(crate) fn s3_error(status: u16, code: &str) -> Self {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>scripted {code}</Message><RequestId>REQ-{code}</RequestId></Error>"
        );
        Self::new(status, "application/xml", body)
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// Chooses the answer to a request (given all requests so far, this one last).
pub(crate) type Handler = Arc<dyn Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync>;

/// A running scripted server.
pub(crate) struct FaultServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
    in_flight: Arc<InFlight>,
}

/// Requests read and not yet answered (issue 13: adaptive concurrency), and the most there
/// were at once.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// One request in flight, from the moment it was read until its answer was written (or the
/// connection dropped).
struct InFlightGuard(Arc<InFlight>);

impl InFlightGuard {
    fn enter(f: &Arc<InFlight>) -> Self {
        let now = f.now.fetch_add(1, Ordering::SeqCst) + 1;
        f.max.fetch_max(now, Ordering::SeqCst);
        Self(f.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Script {
    Queue(Mutex<VecDeque<Reply>>),
    Handler(Handler),
}

/// How the server reads request bodies.
#[derive(Clone, Copy)]
struct Pace(Option<Duration>);

/// Decides, from a request's head (its body still empty) and the requests so far, whether to
/// reset the connection after reading only that many bytes of its body.
type Early = Arc<dyn Fn(&Recorded, &[Recorded]) -> Option<usize> + Send + Sync>;

impl FaultServer {
    /// Starts a server answering with `script`, in order.
    pub(crate) async fn start(script: Vec<Reply>) -> Self {
        Self::launch(
            Script::Queue(Mutex::new(VecDeque::from(script))),
            Pace(None),
            None,
        )
        .await
    }

    /// Like [`with_handler`](Self::with_handler), but reads request bodies slowly: 64 KiB,
    /// then a pause of `pause`, and so on.
    pub(crate) async fn slow_reader(
        pause: Duration,
        handler: impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::launch(Script::Handler(Arc::new(handler)), Pace(Some(pause)), None).await
    }

    /// Like [`with_handler`](Self::with_handler), but first asks `reset_after` about each
    /// request's head: `Some(n)` reads `n` bytes of the body (fewer if it is shorter), takes
    /// what else has already arrived without waiting for more, records the request with that
    /// partial body (every body byte received before the reset, so at least `n`) and resets the
    /// connection (SO_LINGER 0). The listening socket's receive buffer is [`EARLY_RECV_BUFFER`]
    /// (no autotuning), so a client cannot have much more than that in flight at the reset.
    ///
    /// The cut counts bytes of a `Content-Length` body; a request without one (a chunked
    /// body) counts as empty, so for it the reset follows the head and no body is recorded.
    pub(crate) async fn with_reset_midway(
        reset_after: impl Fn(&Recorded, &[Recorded]) -> Option<usize> + Send + Sync + 'static,
        handler: impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::launch(
            Script::Handler(Arc::new(handler)),
            Pace(None),
            Some(Arc::new(reset_after)),
        )
        .await
    }

    /// Starts a server that answers each request with what `handler` says.
    pub(crate) async fn with_handler(
        handler: impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::launch(Script::Handler(Arc::new(handler)), Pace(None), None).await
    }

    async fn launch(script: Script, pace: Pace, early: Option<Early>) -> Self {
        let listener = listen(early.is_some().then_some(EARLY_RECV_BUFFER));
        let addr = listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let log2 = log.clone();
        let in_flight = Arc::new(InFlight::default());
        let in_flight2 = in_flight.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                tokio::spawn(serve(
                    sock,
                    log2.clone(),
                    script.clone(),
                    pace,
                    early.clone(),
                    in_flight2.clone(),
                ));
            }
        });
        Self {
            addr,
            log,
            task,
            in_flight,
        }
    }

    /// The most requests that were read and not yet answered at once, since the start or the
    /// last call (which starts a new count from what is in flight now).
    pub(crate) fn take_max_in_flight(&self) -> usize {
        let now = self.in_flight.now.load(Ordering::SeqCst);
        self.in_flight.max.swap(now, Ordering::SeqCst)
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The receive buffer asked for by [`FaultServer::with_reset_midway`] (Linux doubles it for
/// bookkeeping, so the socket holds up to twice this).
pub(crate) const EARLY_RECV_BUFFER: u32 = 64 * 1024;

/// A listener on 127.0.0.1; with `recv_buffer`, every accepted socket gets that receive buffer
/// (set before `listen`, so the advertised window is sized from it).
fn listen(recv_buffer: Option<u32>) -> TcpListener {
    let sock = TcpSocket::new_v4().expect("socket");
    if let Some(size) = recv_buffer {
        sock.set_recv_buffer_size(size).expect("SO_RCVBUF");
        let got = sock.recv_buffer_size().expect("SO_RCVBUF");
        assert!(
            got <= 2 * size,
            "the receive buffer is {got}, not about {size}"
        );
    }
    sock.bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    sock.listen(1024).expect("listen")
}

fn next_reply(script: &Script, this: &Recorded, log: &Mutex<Vec<Recorded>>) -> Reply {
    match script {
        Script::Queue(q) => {
            let mut s = q.lock().expect("script");
            if s.len() > 1 {
                s.pop_front().expect("non-empty")
            } else {
                s.front().cloned().unwrap_or(Reply::Close)
            }
        }
        Script::Handler(h) => {
            let all = log.lock().expect("log").clone();
            h(this, &all)
        }
    }
}

async fn serve(
    mut sock: TcpStream,
    log: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Script>,
    pace: Pace,
    early: Option<Early>,
    in_flight: Arc<InFlight>,
) {
    let mut buf = Vec::new();
    loop {
        // Read the head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let target = first.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        buf.drain(..head_end);
        if let Some(early) = &early {
            let head = Recorded {
                method: method.clone(),
                target: target.clone(),
                headers: headers.clone(),
                body: Vec::new(),
            };
            let all = log.lock().expect("log").clone();
            if let Some(cut) = early(&head, &all) {
                let cut = cut.min(len);
                while buf.len() < cut {
                    let mut chunk = vec![0u8; 65536];
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                // What is already queued past the cut, without waiting (at most two receive
                // buffers' worth, so a fast sender cannot keep this loop going).
                let mut drained = 0;
                while buf.len() < len && drained < 2 * EARLY_RECV_BUFFER as usize {
                    let mut chunk = vec![0u8; 65536];
                    match sock.try_read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            buf.extend_from_slice(&chunk[..n]);
                            drained += n;
                        }
                    }
                }
                buf.truncate(len);
                let partial = Recorded {
                    body: std::mem::take(&mut buf),
                    ..head
                };
                log.lock().expect("log").push(partial);
                let _ = sock.set_zero_linger();
                return;
            }
        }
        while buf.len() < len {
            let mut chunk = vec![0u8; 65536];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if let Pace(Some(pause)) = pace {
                tokio::time::sleep(pause).await;
            }
        }
        let body: Vec<u8> = buf.drain(..len).collect();
        let rec = Recorded {
            method: method.clone(),
            target,
            headers,
            body,
        };
        log.lock().expect("log").push(rec.clone());
        let _in_flight = InFlightGuard::enter(&in_flight);
        let mut reply = next_reply(&script, &rec, &log);
        while let Reply::Delay(d, inner) = reply {
            tokio::time::sleep(d).await;
            reply = *inner;
        }
        match reply {
            Reply::Delay(..) => unreachable!(),
            Reply::Truncated {
                status,
                headers,
                body,
                send,
            } => {
                let _ = sock
                    .write_all(&head_and_part(status, &headers, &body, send))
                    .await;
                let _ = sock.flush().await;
                return;
            }
            Reply::Reset {
                status,
                headers,
                body,
                send,
            } => {
                let _ = sock
                    .write_all(&head_and_part(status, &headers, &body, send))
                    .await;
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = sock.set_zero_linger();
                return;
            }
            // The client cannot tell whether the request took effect: it must send it again,
            // byte for byte.
            Reply::ResetBeforeAnswer => {
                let _ = sock.set_zero_linger();
                return;
            }
            Reply::StallAfter {
                status,
                headers,
                body,
                send,
                stall,
            } => {
                let _ = sock
                    .write_all(&head_and_part(status, &headers, &body, send))
                    .await;
                let _ = sock.flush().await;
                tokio::time::sleep(stall).await;
                return;
            }
            Reply::Endless {
                status,
                headers,
                prefix,
                fill,
                written,
                pace,
            } => {
                let mut head = format!("HTTP/1.1 {status} Scripted\r\n");
                for (n, v) in &headers {
                    head.push_str(&format!("{n}: {v}\r\n"));
                }
                head.push_str("transfer-encoding: chunked\r\n\r\n");
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let size = if pace.is_some() { 8 * 1024 } else { 64 * 1024 };
                let filler = vec![fill; size];
                let mut chunk = prefix;
                while written.load(Ordering::Relaxed) < ENDLESS_CAP {
                    let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
                    frame.extend_from_slice(&chunk);
                    frame.extend_from_slice(b"\r\n");
                    if sock.write_all(&frame).await.is_err() {
                        return;
                    }
                    written.fetch_add(chunk.len(), Ordering::Relaxed);
                    chunk.clone_from(&filler);
                    if let Some(pause) = pace {
                        tokio::time::sleep(pause).await;
                    }
                }
                return;
            }
            Reply::PartialThenStall {
                status,
                body,
                send,
                stall,
            } => {
                let mut bytes = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                bytes.extend_from_slice(&body[..send.min(body.len())]);
                let _ = sock.write_all(&bytes).await;
                tokio::time::sleep(stall).await;
                return;
            }
            Reply::Close => return,
            Reply::Raw(bytes) => {
                let _ = sock.write_all(&bytes).await;
                let _ = sock.flush().await;
                return;
            }
            Reply::Stall(d) => {
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n")
                    .await;
                tokio::time::sleep(d).await;
                return;
            }
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} Scripted\r\n");
                for (n, v) in &headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                let body_len = if method == "HEAD" { 0 } else { body.len() };
                out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body[..body_len]);
                if sock.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Where an [`Reply::Endless`] body stops if the client keeps reading.
pub(crate) const ENDLESS_CAP: usize = 256 << 20;

/// A response head announcing all of `body`, followed by its first `send` bytes.
fn head_and_part(status: u16, headers: &[(String, String)], body: &[u8], send: usize) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Scripted\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body[..send.min(body.len())]);
    bytes
}

/// Answers a GET for `object` as S3 would: the `Range` asked for (206 with `Content-Range`),
/// or the whole object (200). `etag` is sent when given.
pub(crate) fn serve_range(object: &[u8], etag: Option<&str>, req: &Recorded) -> Reply {
    let total = object.len();
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/octet-stream".to_owned(),
    )];
    if let Some(e) = etag {
        headers.push(("etag".to_owned(), e.to_owned()));
    }
    let Some((start, end)) = parse_range(req.header("range"), total) else {
        return Reply::Http {
            status: 200,
            headers,
            body: object.to_vec(),
        };
    };
    if start >= total {
        return Reply::s3_error(416, "InvalidRange");
    }
    headers.push((
        "content-range".to_owned(),
        format!("bytes {start}-{end}/{total}"),
    ));
    Reply::Http {
        status: 206,
        headers,
        body: object[start..=end].to_vec(),
    }
}

/// `bytes=a-b` or `bytes=a-` → inclusive bounds clamped to the object.
pub(crate) fn parse_range(h: Option<&str>, total: usize) -> Option<(usize, usize)> {
    let spec = h?.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: usize = a.parse().ok()?;
    let end: usize = if b.is_empty() {
        total.saturating_sub(1)
    } else {
        b.parse().ok()?
    };
    Some((start, end.min(total.saturating_sub(1))))
}
