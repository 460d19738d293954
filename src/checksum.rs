//! Integrity checksums as S3 defines them: the algorithms of `x-amz-checksum-*` and
//! `Content-MD5`, computed incrementally and encoded as S3 sends them (base64 of the
//! big-endian digest).
//!
//! CRCs use `crc-fast` (SIMD: carry-less multiplication on x86_64 and aarch64), the digests
//! RustCrypto's `sha1`, `sha2` and `md-5`.

use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A checksum S3 can verify on upload and return on download.
///
/// Which to choose: `Crc32c` and `Crc64Nvme` are the fastest (SIMD, almost free) and are
/// what AWS recommends; `Crc32` is the AWS SDKs' default and so the CRC that S3-compatible
/// stores were fixed to accept first (Cloudflare R2 took it in 2025, before CRC32C and
/// CRC64NVME); `ContentMd5` is the one every store accepts (it predates the
/// `x-amz-checksum-*` family) but costs about 1.5 CPU seconds per GiB. Some stores refuse
/// every `x-amz-checksum-*` header (Backblaze B2 and Google Cloud Storage did in 2025),
/// which is why no checksum is sent unless one is chosen
/// ([`ClientBuilder::request_checksum`](crate::ClientBuilder::request_checksum)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC), `x-amz-checksum-crc32`.
    Crc32,
    /// CRC-32C (Castagnoli), `x-amz-checksum-crc32c`.
    Crc32c,
    /// CRC-64/NVME, `x-amz-checksum-crc64nvme`.
    Crc64Nvme,
    /// SHA-1, `x-amz-checksum-sha1`.
    Sha1,
    /// SHA-256, `x-amz-checksum-sha256`.
    Sha256,
    /// MD5 in the `Content-MD5` header.
    ContentMd5,
}

impl ChecksumAlgorithm {
    /// The request/response header that carries this checksum.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
            ChecksumAlgorithm::ContentMd5 => "content-md5",
        }
    }

    /// The name S3 uses in `x-amz-checksum-algorithm`; `None` for `Content-MD5`, which is
    /// not one of them.
    pub(crate) fn amz_name(self) -> Option<&'static str> {
        Some(match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
            ChecksumAlgorithm::ContentMd5 => return None,
        })
    }

    /// The element that carries this checksum in multipart XML documents.
    pub(crate) fn xml_element(self) -> Option<&'static str> {
        Some(match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
            ChecksumAlgorithm::ContentMd5 => return None,
        })
    }

    /// The algorithm of a multipart XML element (`ChecksumCRC32C`, …).
    pub(crate) fn from_xml_element(name: &[u8]) -> Option<Self> {
        Self::RESPONSE_ORDER
            .into_iter()
            .find(|a| a.xml_element().is_some_and(|e| e.as_bytes() == name))
    }

    /// Whether this is a CRC, whose values of consecutive pieces combine into the value of
    /// the whole.
    pub(crate) fn is_crc(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64Nvme
        )
    }

    /// The kind of multipart checksum S3 accepts for this algorithm when none is asked for:
    /// a full-object checksum for CRCs (it can be verified on download), composite for
    /// SHA-1 and SHA-256 (the only kind S3 offers them in); none for `Content-MD5`.
    pub(crate) fn default_type(self) -> Option<ChecksumType> {
        match self {
            ChecksumAlgorithm::ContentMd5 => None,
            a if a.is_crc() => Some(ChecksumType::FullObject),
            _ => Some(ChecksumType::Composite),
        }
    }

    /// Whether S3 offers this algorithm with this kind of multipart checksum (CRC64NVME is
    /// full-object only; SHA-1 and SHA-256 composite only).
    pub(crate) fn supports(self, ty: ChecksumType) -> bool {
        match ty {
            ChecksumType::FullObject => self.is_crc(),
            ChecksumType::Composite => {
                self.amz_name().is_some() && self != ChecksumAlgorithm::Crc64Nvme
            }
        }
    }

    /// The algorithms a GET answer may carry, strongest-first is not implied: the order in
    /// which response headers are looked for.
    pub(crate) const RESPONSE_ORDER: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Sha1,
    ];

    /// Computes the checksum of `data`, encoded for the header.
    pub fn compute(self, data: &[u8]) -> String {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }
}

/// How the checksum of a multipart object is formed from its parts' checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumType {
    /// The checksum of the concatenated binary checksums of the parts, followed by
    /// `-<parts>` (CRC32, CRC32C, SHA-1, SHA-256). It cannot be checked against the bytes of
    /// a whole-object download.
    Composite,
    /// The checksum of the whole object, as if it had been uploaded in one piece (CRC32,
    /// CRC32C, CRC64NVME). The client combines the parts' CRCs into it without reading the
    /// data again, and downloads can verify it.
    FullObject,
}

impl ChecksumType {
    /// The value of `x-amz-checksum-type`.
    pub(crate) fn header_value(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }

    /// Parses `COMPOSITE` or `FULL_OBJECT` (any case).
    pub(crate) fn parse(v: &str) -> Option<Self> {
        let v = v.trim();
        if v.eq_ignore_ascii_case("COMPOSITE") {
            Some(ChecksumType::Composite)
        } else if v.eq_ignore_ascii_case("FULL_OBJECT") {
            Some(ChecksumType::FullObject)
        } else {
            None
        }
    }
}

/// A request's checksum: chosen on the request, or the client's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChecksumChoice {
    pub(crate) algorithm: Option<ChecksumAlgorithm>,
    /// Chosen on the request rather than inherited from the client.
    pub(crate) explicit: bool,
}

impl ChecksumChoice {
    /// The client's default.
    pub(crate) fn inherit(algorithm: Option<ChecksumAlgorithm>) -> Self {
        Self {
            algorithm,
            explicit: false,
        }
    }

    /// Chosen on the request.
    pub(crate) fn set(algorithm: Option<ChecksumAlgorithm>) -> Self {
        Self {
            algorithm,
            explicit: true,
        }
    }
}

/// The CRC algorithm of crc-fast behind a checksum, and its width in bytes.
fn crc_params(alg: ChecksumAlgorithm) -> Option<(CrcAlgorithm, usize)> {
    match alg {
        ChecksumAlgorithm::Crc32 => Some((CrcAlgorithm::Crc32IsoHdlc, 4)),
        ChecksumAlgorithm::Crc32c => Some((CrcAlgorithm::Crc32Iscsi, 4)),
        ChecksumAlgorithm::Crc64Nvme => Some((CrcAlgorithm::Crc64Nvme, 8)),
        _ => None,
    }
}

/// A CRC value as S3 writes it: base64 of the big-endian bytes of its width.
fn encode_crc(value: u64, width: usize) -> String {
    crate::base64::encode(&value.to_be_bytes()[8 - width..])
}

/// The CRC value of an S3-encoded CRC checksum.
fn decode_crc(encoded: &str, width: usize) -> Option<u64> {
    let raw = crate::base64::decode(encoded.trim())?;
    if raw.len() != width {
        return None;
    }
    Some(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// The CRC of consecutive pieces, combined in order from each piece's `(crc, length)`
/// without the data; the empty object's CRC when there are none. `None` for non-CRC
/// algorithms.
pub(crate) fn combine_crcs(
    alg: ChecksumAlgorithm,
    pieces: impl IntoIterator<Item = (u64, u64)>,
) -> Option<String> {
    let (crc_alg, width) = crc_params(alg)?;
    let mut acc: Option<u64> = None;
    for (crc, len) in pieces {
        acc = Some(match acc {
            None => crc,
            Some(a) => crc_fast::checksum_combine(crc_alg, a, crc, len),
        });
    }
    let value = acc.unwrap_or_else(|| CrcDigest::new(crc_alg).finalize());
    Some(encode_crc(value, width))
}

/// The full-object checksum of parts given as S3-encoded CRCs with their lengths. `None`
/// for non-CRC algorithms or a malformed value.
pub(crate) fn full_object_from_parts<'a>(
    alg: ChecksumAlgorithm,
    parts: impl IntoIterator<Item = (&'a str, u64)>,
) -> Option<String> {
    let (_, width) = crc_params(alg)?;
    let pieces = parts
        .into_iter()
        .map(|(v, len)| Some((decode_crc(v, width)?, len)))
        .collect::<Option<Vec<_>>>()?;
    combine_crcs(alg, pieces)
}

/// The composite checksum of parts given as S3-encoded checksums:
/// `base64(digest(raw_1 ‖ … ‖ raw_n))-n`. `None` for `Content-MD5` or a malformed value.
pub(crate) fn composite_from_parts<'a>(
    alg: ChecksumAlgorithm,
    parts: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    alg.amz_name()?;
    let mut h = Hasher::new(alg);
    let mut n = 0usize;
    for v in parts {
        h.update(&crate::base64::decode(v.trim())?);
        n += 1;
    }
    Some(format!("{}-{n}", h.finish()))
}

/// An incremental checksum.
pub(crate) enum Hasher {
    Crc(CrcDigest, usize),
    Sha1(Sha1),
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    pub(crate) fn new(alg: ChecksumAlgorithm) -> Self {
        match alg {
            ChecksumAlgorithm::Crc32 => Hasher::Crc(CrcDigest::new(CrcAlgorithm::Crc32IsoHdlc), 4),
            ChecksumAlgorithm::Crc32c => Hasher::Crc(CrcDigest::new(CrcAlgorithm::Crc32Iscsi), 4),
            ChecksumAlgorithm::Crc64Nvme => Hasher::Crc(CrcDigest::new(CrcAlgorithm::Crc64Nvme), 8),
            ChecksumAlgorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            ChecksumAlgorithm::ContentMd5 => Hasher::Md5(Md5::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc(d, _) => d.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    /// For a CRC: its value and the number of bytes it covers, to combine with others.
    pub(crate) fn crc_piece(&self) -> Option<(u64, u64)> {
        match self {
            Hasher::Crc(d, _) => Some((d.finalize(), d.get_amount())),
            _ => None,
        }
    }

    /// The base64 of the big-endian digest, as S3 writes it.
    pub(crate) fn finish(self) -> String {
        match self {
            Hasher::Crc(d, width) => encode_crc(d.finalize(), width),
            Hasher::Sha1(h) => crate::base64::encode(&h.finalize()),
            Hasher::Sha256(h) => crate::base64::encode(&h.finalize()),
            Hasher::Md5(h) => crate::base64::encode(&h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Check values of each algorithm over "123456789" (the CRC catalogue's test input), and
    /// the published digests, in S3's base64 form.
    #[test]
    fn known_values() {
        let data = b"123456789";
        let crc = |alg, hex: &str| {
            let want = crate::base64::encode(&hex::decode(hex).unwrap());
            assert_eq!(ChecksumAlgorithm::compute(alg, data), want, "{alg:?}");
        };
        crc(ChecksumAlgorithm::Crc32, "cbf43926");
        crc(ChecksumAlgorithm::Crc32c, "e3069283");
        crc(ChecksumAlgorithm::Crc64Nvme, "ae8b14860a799888");
        crc(
            ChecksumAlgorithm::Sha1,
            "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
        );
        crc(
            ChecksumAlgorithm::Sha256,
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
        );
        crc(
            ChecksumAlgorithm::ContentMd5,
            "25f9e794323b453885f5181f1b624d0b",
        );
    }

    /// CRCs of pieces cut anywhere combine into the CRC of the whole, without the data.
    #[test]
    fn piece_crcs_combine_into_the_whole() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 253) as u8).collect();
        for alg in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let want = alg.compute(&data);
            for cuts in [
                vec![0, 50_000],
                vec![0, 1, 50_000],
                vec![0, 8191, 8192, 30_000, 49_999, 50_000],
                vec![0, 0, 25_000, 25_000, 50_000],
            ] {
                let pieces: Vec<(u64, u64)> = cuts
                    .windows(2)
                    .map(|w| {
                        let mut h = Hasher::new(alg);
                        h.update(&data[w[0]..w[1]]);
                        h.crc_piece().unwrap()
                    })
                    .collect();
                assert_eq!(
                    combine_crcs(alg, pieces.clone()),
                    Some(want.clone()),
                    "{alg:?} {cuts:?}"
                );
                let encoded: Vec<(String, u64)> = cuts
                    .windows(2)
                    .map(|w| (alg.compute(&data[w[0]..w[1]]), (w[1] - w[0]) as u64))
                    .collect();
                assert_eq!(
                    full_object_from_parts(alg, encoded.iter().map(|(v, l)| (v.as_str(), *l))),
                    Some(want.clone())
                );
            }
            assert_eq!(combine_crcs(alg, []), Some(alg.compute(b"")));
        }
        assert_eq!(combine_crcs(ChecksumAlgorithm::Sha256, []), None);
        assert_eq!(
            full_object_from_parts(ChecksumAlgorithm::Crc32c, [("not base64!", 3)]),
            None
        );
        // A CRC32 value where a CRC64 is expected is refused, not misread.
        let crc32 = ChecksumAlgorithm::Crc32.compute(b"abc");
        assert_eq!(
            full_object_from_parts(ChecksumAlgorithm::Crc64Nvme, [(crc32.as_str(), 3)]),
            None
        );
    }

    /// The composite form, recomputed here from its definition with the digest crates.
    #[test]
    fn composite_is_the_digest_of_the_raw_part_digests() {
        let parts: [&[u8]; 3] = [b"first part", b"second", b"3"];
        let mut raw = Vec::new();
        for p in parts {
            raw.extend_from_slice(&Sha256::digest(p));
        }
        let want = format!("{}-3", crate::base64::encode(&Sha256::digest(&raw)));
        let encoded: Vec<String> = parts
            .iter()
            .map(|p| ChecksumAlgorithm::Sha256.compute(p))
            .collect();
        assert_eq!(
            composite_from_parts(
                ChecksumAlgorithm::Sha256,
                encoded.iter().map(String::as_str)
            ),
            Some(want)
        );
        let crcs: Vec<String> = parts
            .iter()
            .map(|p| ChecksumAlgorithm::Crc32c.compute(p))
            .collect();
        let mut raw = Vec::new();
        for p in parts {
            raw.extend_from_slice(
                &crc_fast::checksum(CrcAlgorithm::Crc32Iscsi, p).to_be_bytes()[4..],
            );
        }
        let want = format!(
            "{}-3",
            crate::base64::encode(
                &crc_fast::checksum(CrcAlgorithm::Crc32Iscsi, &raw).to_be_bytes()[4..]
            )
        );
        assert_eq!(
            composite_from_parts(ChecksumAlgorithm::Crc32c, crcs.iter().map(String::as_str)),
            Some(want)
        );
        assert_eq!(
            composite_from_parts(ChecksumAlgorithm::ContentMd5, ["AAAA"]),
            None
        );
    }

    #[test]
    fn algorithms_and_types_that_go_together() {
        use ChecksumAlgorithm::*;
        assert!(Crc64Nvme.supports(ChecksumType::FullObject));
        assert!(!Crc64Nvme.supports(ChecksumType::Composite));
        assert!(!Sha256.supports(ChecksumType::FullObject));
        assert!(Sha1.supports(ChecksumType::Composite));
        assert!(!ContentMd5.supports(ChecksumType::Composite));
        assert_eq!(Crc32c.default_type(), Some(ChecksumType::FullObject));
        assert_eq!(Sha1.default_type(), Some(ChecksumType::Composite));
        assert_eq!(ContentMd5.default_type(), None);
        assert_eq!(
            ChecksumType::parse(" full_object"),
            Some(ChecksumType::FullObject)
        );
        assert_eq!(ChecksumType::parse("other"), None);
        for alg in ChecksumAlgorithm::RESPONSE_ORDER {
            assert_eq!(
                ChecksumAlgorithm::from_xml_element(alg.xml_element().unwrap().as_bytes()),
                Some(alg)
            );
        }
    }

    #[test]
    fn incremental_equals_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for alg in ChecksumAlgorithm::RESPONSE_ORDER {
            let mut h = Hasher::new(alg);
            for c in data.chunks(7919) {
                h.update(c);
            }
            assert_eq!(h.finish(), alg.compute(&data), "{alg:?}");
        }
    }
}
