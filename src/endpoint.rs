//! Where requests go: the endpoint URL (scheme, host, port; user info split off), AWS's
//! endpoint names, and the addressing style. A leaf: imports nothing of the crate but errors.

use crate::error::{Error, Result};

/// How bucket names appear in request URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AddressingStyle {
    /// Virtual-hosted style for AWS endpoints, path style for custom endpoints (the default).
    #[default]
    Auto,
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
}

/// URL scheme of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed endpoint: scheme and authority (host, optional non-default port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) scheme: Scheme,
    /// Host name or IP literal (IPv6 in brackets).
    pub(crate) host: String,
    /// The port, `None` when it is the scheme's default.
    pub(crate) port: Option<u16>,
    /// Whether this is an AWS endpoint (virtual-hosted addressing by default).
    pub(crate) is_aws: bool,
}

impl Endpoint {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_input(format!("endpoint {url:?}: {why}"));
        let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '?', '#']) {
            return Err(bad("must not have a path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(bad("user info must be split off first"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed IPv6 bracket"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("junk after the IPv6 address")),
            };
            (format!("[{h}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("bad host"));
        }
        let port = match port {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            None => None,
        };
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let host = host.to_ascii_lowercase();
        let is_aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
        Ok(Endpoint {
            scheme,
            host,
            port: port.filter(|p| *p != default_port),
            is_aws,
        })
    }

    /// The endpoint AWS uses for `region`.
    pub(crate) fn aws(region: &str) -> Self {
        Self::aws_host(format!("s3.{region}.amazonaws.com"))
    }

    /// An AWS endpoint host over https.
    pub(crate) fn aws_host(host: String) -> Self {
        Endpoint {
            scheme: Scheme::Https,
            host,
            port: None,
            is_aws: true,
        }
    }

    pub(crate) fn is_ip(&self) -> bool {
        self.host.starts_with('[') || self.host.parse::<std::net::Ipv4Addr>().is_ok()
    }

    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host.as_str();
        h == "localhost"
            || h.ends_with(".localhost")
            || h.strip_prefix('[')
                .and_then(|v6| v6.strip_suffix(']'))
                .and_then(|v6| v6.parse::<std::net::Ipv6Addr>().ok())
                .is_some_and(|ip| ip.is_loopback())
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Splits `scheme://user:pass@host…` into the URL without user info and the key and secret
/// (percent-decoded).
///
/// The host part starts after the last `@`, so a secret with a raw `/` still splits cleanly
/// (endpoints have no path, so an `@` can only belong to user info). User info without both a
/// key and a secret is refused. Errors never quote the URL: it may hold a secret.
pub(crate) fn split_userinfo(url: &str) -> Result<(String, Option<UserInfo>)> {
    let Some((scheme, rest)) = url.split_once("://") else {
        if url.contains('@') {
            return Err(Error::invalid_input(
                "endpoint URL with user info has no scheme (the URL is not shown: it may hold a secret)",
            ));
        }
        return Ok((url.to_owned(), None));
    };
    let Some(at) = rest.rfind('@') else {
        return Ok((url.to_owned(), None));
    };
    let userinfo = &rest[..at];
    let host_part = &rest[at + 1..];
    let stripped = format!("{scheme}://{host_part}");
    match userinfo.split_once(':') {
        Some((user, pass)) if !user.is_empty() && !pass.is_empty() => Ok((
            stripped,
            Some(UserInfo {
                access_key_id: percent_decode(user),
                secret_access_key: percent_decode(pass),
            }),
        )),
        _ => Err(Error::invalid_input(
            "endpoint user info must be KEY:SECRET, both non-empty and percent-encoded \
             (the URL is not shown: it may hold a secret)",
        )),
    }
}

/// Decodes `%XX` escapes; anything else (a lone `%` included) is kept as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The key and secret found in an endpoint URL's user info. `Debug` shows neither.
pub(crate) struct UserInfo {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
}

impl std::fmt::Debug for UserInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserInfo(** redacted **)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(
            (e.scheme, e.host.as_str(), e.port),
            (Scheme::Http, "127.0.0.1", Some(9000))
        );
        let e = Endpoint::parse("https://S3.example.com:443").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("s3.example.com", None));
        let e = Endpoint::parse("http://[::1]:8080").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("[::1]", Some(8080)));
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x/path").is_err());
        assert!(Endpoint::parse("http://x:99999").is_err());
        assert!(Endpoint::parse("http://").is_err());
        assert!(
            Endpoint::parse("https://s3.eu-west-1.amazonaws.com")
                .unwrap()
                .is_aws
        );
    }

    #[test]
    fn every_loopback_form_is_loopback() {
        for url in [
            "http://127.0.0.1:1",
            "http://127.3.2.1",
            "http://[::1]:1",
            "http://[0:0:0:0:0:0:0:1]",
            "http://localhost:9",
        ] {
            assert!(Endpoint::parse(url).unwrap().is_loopback(), "{url}");
        }
        assert!(!Endpoint::parse("http://10.0.0.1").unwrap().is_loopback());
    }

    #[test]
    fn user_info_is_split_off_and_decoded() {
        let (url, info) = split_userinfo("http://AKID:SECRET/CANARY%2B@127.0.0.1:9000").unwrap();
        assert_eq!(url, "http://127.0.0.1:9000");
        let info = info.unwrap();
        assert_eq!(
            (info.access_key_id.as_str(), info.secret_access_key.as_str()),
            ("AKID", "SECRET/CANARY+")
        );
        assert!(!format!("{info:?}").contains("CANARY"));
        assert_eq!(percent_decode("a%2"), "a%2");
        let (url, info) = split_userinfo("https://s3.example.com").unwrap();
        assert_eq!(
            (url.as_str(), info.is_none()),
            ("https://s3.example.com", true)
        );
    }
}
