//! Test harness: the in-process S3 server and client helpers.

#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod fault;
pub(crate) mod logs;
pub(crate) mod s3_server;
pub(crate) mod sigcheck;
pub(crate) mod timing;

use async_s3::{Bucket, Client, ClientBuilder, Credentials, ProxyConfig, RetryConfig};
pub(crate) use s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use std::time::Duration;

/// A server with one bucket created, and a client for it.
pub(crate) struct Env {
    pub(crate) server: S3Server,
    pub(crate) client: Client,
    pub(crate) bucket: Bucket,
}

/// A client for `server` with the right keys.
pub(crate) fn client_for(server: &S3Server) -> Client {
    client_builder_for(server).build().unwrap()
}

/// A client builder for `server` with the right keys, for tests that add settings.
pub(crate) fn client_builder_for(server: &S3Server) -> ClientBuilder {
    Client::builder()
        .endpoint(server.endpoint())
        .region("us-east-1")
        .credentials(Credentials::new(ACCESS_KEY, SECRET_KEY))
        // Test traffic stays on loopback whatever proxy the environment names.
        .proxy(ProxyConfig::None)
}

/// Starts a server, creates bucket `name` through the client.
pub(crate) async fn env(name: &str) -> Env {
    let server = S3Server::start().await.unwrap();
    let client = client_for(&server);
    client.create_bucket(name).await.unwrap();
    let bucket = client.bucket(name);
    Env {
        server,
        client,
        bucket,
    }
}

/// Deterministic pseudo-random bytes.
pub(crate) fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A client builder for the scripted server: test keys, 3 attempts with millisecond backoff.
pub(crate) fn fault_client_builder(server: &fault::FaultServer) -> ClientBuilder {
    Client::builder()
        .endpoint(server.endpoint())
        .credentials(Credentials::new("AKIDTEST", "secret"))
        .proxy(ProxyConfig::None)
        .retry(
            RetryConfig::with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}
