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
/// Which to choose: `Crc32c` and `Crc64Nvme` are the fastest (hardware-accelerated) and are
/// what AWS recommends; `Crc32` is accepted by more S3-compatible stores; `ContentMd5` is the
/// one every store accepts (it predates the `x-amz-checksum-*` family) but is slow.
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

    /// The name S3 uses in `x-amz-checksum-algorithm` and `x-amz-sdk-checksum-algorithm`
    /// (`MD5` for Content-MD5).
    pub fn sdk_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
            ChecksumAlgorithm::ContentMd5 => "MD5",
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

    /// The base64 of the big-endian digest, as S3 writes it.
    pub(crate) fn finish(self) -> String {
        match self {
            Hasher::Crc(d, width) => {
                let v = d.finalize().to_be_bytes();
                crate::base64::encode(&v[8 - width..])
            }
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
