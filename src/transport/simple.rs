//! Plain, unsigned HTTP requests for the credential providers (instance metadata, container
//! credentials, STS): the only way `credentials/` reaches the network, so reqwest stays here.

use super::errors::{WithoutUrl, chain_text, transport_error};
use super::read::read_limited;
use crate::error::{Error, ErrorKind, Result};
use bytes::Bytes;
use std::time::Duration;

/// A small HTTP client: no redirects, no proxy (metadata endpoints are link-local), short
/// timeouts.
#[derive(Debug, Clone)]
pub(crate) struct SimpleHttp {
    client: reqwest::Client,
    timeout: Duration,
}

/// An answer: status, headers, body (read whole, at most 1 MiB).
#[derive(Debug, Clone)]
pub(crate) struct SimpleResponse {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

/// The largest answer body read.
const MAX_BODY: usize = 1 << 20;

impl SimpleHttp {
    /// A client whose requests time out after `timeout` in all (connect included).
    pub(crate) fn new(timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Transport)
                    .with_message("cannot build the HTTP client")
                    .with_source(WithoutUrl(chain_text(&e)))
            })?;
        Ok(Self { client, timeout })
    }

    /// Sends one request; any status is returned as is (the caller decides).
    ///
    /// # Errors
    ///
    /// `Transport` or `Timeout` when no answer came; `InvalidResponse` for a body over 1 MiB.
    pub(crate) async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<SimpleResponse> {
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::invalid_input(format!("bad HTTP method {method:?}")))?;
        let mut req = self.client.request(method, url);
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| transport_error(&e, true))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_limited(resp, MAX_BODY, self.timeout).await?;
        Ok(SimpleResponse {
            status,
            headers,
            body,
        })
    }
}
