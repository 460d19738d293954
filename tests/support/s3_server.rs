//! An S3 server in-process: s3s-fs on a temp directory, with SigV4 verification on.
//!
//! Shared by the tests (through `support/mod.rs`) and the examples (through `#[path]`).

#![allow(dead_code)]

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// The access key the in-process server accepts.
pub(crate) const ACCESS_KEY: &str = "AKIAASYNCS3TESTKEY01";
/// The secret key the in-process server accepts.
pub(crate) const SECRET_KEY: &str = "asyncs3/test/secret/key/0123456789abcdefgh";

/// A running in-process S3 server. Stops when its runtime stops or when dropped.
pub(crate) struct S3Server {
    addr: SocketAddr,
    root: PathBuf,
    _dir: Option<tempfile::TempDir>,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    /// Starts a server on 127.0.0.1 (a free port) over a fresh temp directory.
    pub(crate) async fn start() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        let mut s = Self::start_at(&root).await?;
        s._dir = Some(dir);
        Ok(s)
    }

    /// Starts a server over an existing directory.
    pub(crate) async fn start_at(root: &Path) -> std::io::Result<Self> {
        let fs =
            s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Ok(Self {
            addr,
            root: root.to_path_buf(),
            _dir: None,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The directory the server stores buckets in.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}
