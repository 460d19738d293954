//! Percent-encoding as SigV4 wants it, and the canonical query string.

/// Whether `b` is left as is by SigV4 URI encoding (RFC 3986 unreserved characters).
#[inline]
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

#[inline]
fn push_encoded(out: &mut String, raw: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in raw.as_bytes() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
}

/// Appends `raw` (a path such as `/bucket/key`) to `out`, URI-encoded once the S3 way.
///
/// Every byte except unreserved characters and `/` becomes `%XX` (upper-case hex); nothing
/// is normalized, so `a//b`, `./` and `../` stay as they are.
///
/// # Example
///
/// ```
/// let mut path = String::new();
/// async_s3::signing::encode_path(&mut path, "/bucket/a b+c~d/日");
/// assert_eq!(path, "/bucket/a%20b%2Bc~d/%E6%97%A5");
/// ```
pub fn encode_path(out: &mut String, raw: &str) {
    push_encoded(out, raw, true);
}

/// Appends `raw` to `out` encoded as a query name or value (`/` becomes `%2F`).
///
/// # Example
///
/// ```
/// let mut v = String::new();
/// async_s3::signing::encode_query_component(&mut v, "a/b=c d");
/// assert_eq!(v, "a%2Fb%3Dc%20d");
/// ```
pub fn encode_query_component(out: &mut String, raw: &str) {
    push_encoded(out, raw, false);
}

/// A canonical query string: every name and value encoded, pairs sorted, joined by `&`.
///
/// The same string is signed and sent, so the server's view matches the signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CanonicalQuery(String);

impl CanonicalQuery {
    /// Encodes and sorts `params` (raw, unencoded names and values).
    ///
    /// A parameter with an empty value is written `name=`.
    pub fn new<I, K, V>(params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut pairs: Vec<(String, String)> = params
            .into_iter()
            .map(|(k, v)| {
                let mut ek = String::new();
                encode_query_component(&mut ek, k.as_ref());
                let mut ev = String::new();
                encode_query_component(&mut ev, v.as_ref());
                (ek, ev)
            })
            .collect();
        Self::join(&mut pairs)
    }

    /// Adds raw `extra` parameters to an existing canonical query string, keeping it sorted.
    pub fn merge<I, K, V>(canonical: &str, extra: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut pairs: Vec<(String, String)> = canonical
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (p.to_owned(), String::new()),
            })
            .collect();
        pairs.extend(extra.into_iter().map(|(k, v)| {
            let mut ek = String::new();
            encode_query_component(&mut ek, k.as_ref());
            let mut ev = String::new();
            encode_query_component(&mut ev, v.as_ref());
            (ek, ev)
        }));
        Self::join(&mut pairs)
    }

    fn join(pairs: &mut [(String, String)]) -> Self {
        pairs.sort_unstable();
        let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        CanonicalQuery(out)
    }

    /// The query string, without a leading `?`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The query string, without a leading `?`.
    pub fn into_string(self) -> String {
        self.0
    }
}
