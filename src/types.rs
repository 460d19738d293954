//! Plain data types shared by several operations: listing entries, buckets, delete results.
//!
//! They are filled by the response parsers in `xml/` and by header parsing in `ops/`; users
//! read them but never construct them, hence `#[non_exhaustive]`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::time::SystemTime;

use bytes::Bytes;
use bytestring::ByteString;

/// An immutable UTF-8 string backed by [`Bytes`]: the keys, entity tags and storage classes
/// of a listing are slices of the page the server sent, so listing allocates nothing per key.
///
/// It reads like a `&str` (`Deref<Target = str>`, `AsRef<str>`, `Borrow<str>`, so a
/// `HashMap<Text, _>` answers `get("key")`), compares with `str`, `&str` and `String`, and is
/// cheap to clone (a reference count, no copy). `String::from(text)` (or `text.to_string()`)
/// makes an owned copy.
///
/// A `Text` sliced from a listing page keeps that page's buffer alive (a few hundred bytes per
/// key): to keep a few keys of many pages for long, copy them into `String`s.
///
/// # Example
///
/// ```
/// use async_s3::Text;
///
/// let key = Text::from("photos/cat.jpg");
/// assert_eq!(key, "photos/cat.jpg");
/// assert!(key.ends_with(".jpg"));
/// let owned: String = key.clone().into();
/// assert_eq!(owned, key);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(ByteString);

impl Text {
    /// The bytes as text, if they are UTF-8 (checked here, once).
    pub(crate) fn from_utf8_bytes(bytes: Bytes) -> Option<Self> {
        ByteString::try_from(bytes).ok().map(Self)
    }

    /// A piece of this text (`part` must be a subslice of `self.as_str()`): no copy and no
    /// second UTF-8 check.
    pub(crate) fn slice(&self, part: &str) -> Self {
        Self(self.0.slice_ref(part))
    }

    /// A `Text` of a string literal: no allocation.
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::Text;
    ///
    /// const STANDARD: Text = Text::from_static("STANDARD");
    /// assert_eq!(STANDARD, "STANDARD");
    /// ```
    pub const fn from_static(s: &'static str) -> Self {
        Self(ByteString::from_static(s))
    }

    /// The underlying bytes, without a copy.
    ///
    /// # Example
    ///
    /// ```
    /// use async_s3::Text;
    ///
    /// let bytes = Text::from("key").into_bytes();
    /// assert_eq!(&bytes[..], b"key");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that `Borrow<str>` lookups find it.
        self.as_str().hash(state);
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(ByteString::from(s))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(ByteString::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Self(ByteString::from(s.as_str()))
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Self {
        Self(ByteString::from(s))
    }
}

impl From<&Text> for String {
    fn from(t: &Text) -> Self {
        t.as_str().to_owned()
    }
}

impl From<Text> for Bytes {
    fn from(t: Text) -> Self {
        t.into_bytes()
    }
}

impl AsRef<std::path::Path> for Text {
    fn as_ref(&self) -> &std::path::Path {
        self.as_str().as_ref()
    }
}

impl AsRef<std::ffi::OsStr> for Text {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.as_str().as_ref()
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        // A `Text` that owns its whole buffer gives it up without a copy.
        String::from(t.0)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        other == self
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        other == self
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        other == self
    }
}

/// One object in a listing (ListObjectsV2 `<Contents>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The object key, decoded when the listing used `encoding-type=url`. A slice of the
    /// listing page: keeping it keeps that page's buffer (see [`Text`]).
    pub key: Text,
    /// Size in bytes.
    pub size: u64,
    /// When the object was last written, if the server said.
    pub last_modified: Option<SystemTime>,
    /// The entity tag as the server sent it, quotes included (some stores omit it in listings).
    pub etag: Option<Text>,
    /// The storage class, e.g. `STANDARD`.
    pub storage_class: Option<Text>,
}

/// One entry of a listing stream: an object, or a common prefix when a delimiter was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListEntry {
    /// An object.
    Object(ObjectInfo),
    /// A common prefix (a "directory" when listing with a delimiter such as `/`).
    Prefix(String),
}

/// One page of a ListObjectsV2 response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListPage {
    /// The objects on this page, in the order the server sent them.
    pub objects: Vec<ObjectInfo>,
    /// The common prefixes on this page, in the order the server sent them.
    pub common_prefixes: Vec<String>,
    /// Whether more pages follow.
    pub is_truncated: bool,
    /// The token that asks for the next page.
    pub next_continuation_token: Option<String>,
    /// `KeyCount` as reported by the server.
    pub key_count: Option<u64>,
}

/// A bucket as reported by ListBuckets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    /// The bucket name.
    pub name: String,
    /// When the bucket was created, if the server said.
    pub creation_date: Option<SystemTime>,
}

/// A key removed by DeleteObjects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletedObject {
    /// The key.
    pub key: String,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    // versioning (issue 11)
    /// Whether the delete created a delete marker (or removed one, when a marker's version
    /// id was named).
    pub delete_marker: bool,
    /// The version id of that delete marker.
    pub delete_marker_version_id: Option<String>,
}

/// A key that DeleteObjects failed to remove, with the reason the server gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectError {
    /// The key.
    pub key: String,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// The S3 error code, e.g. `AccessDenied`.
    pub code: String,
    /// The message the server gave.
    pub message: String,
}

/// The fields of an S3 `<Error>` document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct S3ErrorBody {
    /// The error code, e.g. `NoSuchKey`.
    pub code: Option<String>,
    /// The human-readable message.
    pub message: Option<String>,
    /// The request id (`RequestId`).
    pub request_id: Option<String>,
    /// The host id (`HostId`).
    pub host_id: Option<String>,
}

/// One uploaded part of a multipart upload, as ListParts reports it or as
/// CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartInfo {
    /// The part number, 1 to 10,000.
    pub part_number: u32,
    /// The part's entity tag, quotes included.
    pub etag: String,
    /// The part's size in bytes (0 when not reported).
    pub size: u64,
    /// The part's checksum, as sent with it (or as ListParts reports it), S3-encoded.
    pub checksum: Option<(crate::ChecksumAlgorithm, String)>,
}

impl PartInfo {
    /// A part for a CompleteMultipartUpload list.
    pub fn new(part_number: u32, etag: impl Into<String>) -> Self {
        Self {
            part_number,
            etag: etag.into(),
            size: 0,
            checksum: None,
        }
    }

    /// The same part with its checksum (needed in the completion list of an upload created
    /// with a checksum algorithm).
    #[must_use]
    pub fn with_checksum(
        mut self,
        algorithm: crate::ChecksumAlgorithm,
        value: impl Into<String>,
    ) -> Self {
        self.checksum = Some((algorithm, value.into()));
        self
    }

    /// The same part with its size (needed to combine the parts' CRCs into a full-object
    /// checksum when the part list is built by hand).
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = size;
        self
    }
}

// versioning and uploads in progress (issue 11)

/// One version of an object, as ListObjectVersions reports it (`<Version>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The object key, decoded when the listing used `encoding-type=url`. A slice of the
    /// listing page: keeping it keeps that page's buffer (see [`Text`]).
    pub key: Text,
    /// The version id (`null` for an object written before versioning was enabled).
    pub version_id: String,
    /// Whether this is the current version of the key.
    pub is_latest: bool,
    /// Size in bytes.
    pub size: u64,
    /// When this version was written.
    pub last_modified: Option<SystemTime>,
    /// The entity tag, quotes included.
    pub etag: Option<Text>,
    /// The storage class, e.g. `STANDARD`.
    pub storage_class: Option<Text>,
}

/// A delete marker, as ListObjectVersions reports it (`<DeleteMarker>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteMarkerEntry {
    /// The key the marker hides.
    pub key: Text,
    /// The marker's own version id.
    pub version_id: String,
    /// Whether the marker is the current version of the key (the key then reads as deleted).
    pub is_latest: bool,
    /// When the marker was created.
    pub last_modified: Option<SystemTime>,
}

/// One entry of a ListObjectVersions listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionEntry {
    /// A version of an object.
    Version(ObjectVersion),
    /// A delete marker.
    DeleteMarker(DeleteMarkerEntry),
    /// A common prefix, when a delimiter was given.
    Prefix(String),
}

/// One page of a ListObjectVersions response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VersionsPage {
    /// Versions and delete markers in the server's order (by key, then newest first).
    pub entries: Vec<VersionEntry>,
    /// The common prefixes on this page.
    pub common_prefixes: Vec<String>,
    /// Whether more pages follow.
    pub is_truncated: bool,
    /// The `key-marker` that asks for the next page.
    pub next_key_marker: Option<String>,
    /// The `version-id-marker` that asks for the next page.
    pub next_version_id_marker: Option<String>,
}

/// A multipart upload in progress, as ListMultipartUploads reports it (`<Upload>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartUploadInfo {
    /// The key the upload writes to, decoded when the listing used `encoding-type=url`.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When the upload was created.
    pub initiated: Option<SystemTime>,
    /// The storage class the object will have.
    pub storage_class: Option<String>,
}

/// One page of a ListMultipartUploads response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct UploadsPage {
    /// The uploads on this page, in the server's order (by key, then by time).
    pub uploads: Vec<MultipartUploadInfo>,
    /// The common prefixes on this page, when a delimiter was given.
    pub common_prefixes: Vec<String>,
    /// Whether more pages follow.
    pub is_truncated: bool,
    /// The `key-marker` that asks for the next page.
    pub next_key_marker: Option<String>,
    /// The `upload-id-marker` that asks for the next page.
    pub next_upload_id_marker: Option<String>,
}

/// What a [`DeletePrefix`](crate::DeletePrefix) did: its output, and, when a request failed
/// part way, what it had done before (see [`Error::partial_delete_prefix`](crate::Error::partial_delete_prefix)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DeletePrefixOutput {
    /// How many keys S3 reported deleted.
    pub deleted: u64,
    /// Every key S3 reported it could not delete, with its code and message.
    pub errors: Vec<DeleteObjectError>,
    /// How many DeleteObjects requests S3 answered (a request that failed as a whole is not
    /// counted).
    pub requests: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn text_is_refused_when_not_utf8_and_converts_as_a_string_would() {
        assert!(Text::from_utf8_bytes(Bytes::from_static(b"caf\xc3")).is_none());
        let key = Text::from("dir/file.txt");
        let borrowed: String = (&key).into();
        assert_eq!(borrowed, "dir/file.txt");
        let owned = String::from("x");
        assert_eq!(Text::from(&owned), "x");
        assert_eq!(Text::from(Box::<str>::from("y")), "y");
        assert_eq!(
            std::path::Path::new("/tmp").join(&key),
            std::path::Path::new("/tmp/dir/file.txt")
        );
        let os: &std::ffi::OsStr = key.as_ref();
        assert_eq!(os, "dir/file.txt");
        assert_eq!(
            Bytes::from(key.clone()),
            Bytes::from_static(b"dir/file.txt")
        );
        let piece = key.slice(&key[4..]);
        assert_eq!(piece, "file.txt");
        assert_eq!(piece.as_bytes().as_ptr(), key.as_bytes()[4..].as_ptr());
    }

    #[test]
    fn text_reads_compares_and_hashes_as_str() {
        let page = Bytes::from_static(b"<Key>photos/caf\xc3\xa9.jpg</Key>");
        let key = Text::from_utf8_bytes(page.slice(5..21)).expect("UTF-8");
        assert_eq!(key, "photos/café.jpg");
        assert_eq!("photos/café.jpg", key);
        assert_eq!(key, String::from("photos/café.jpg"));
        assert_eq!(key, Text::from("photos/café.jpg"));
        assert_eq!(key.len(), 16);
        assert_eq!(
            format!("{key}|{key:?}"),
            "photos/café.jpg|\"photos/café.jpg\""
        );
        // The slice shares the page's buffer; a clone shares it too.
        assert_eq!(key.as_bytes().as_ptr(), page[5..].as_ptr());
        let copy = key.clone();
        assert_eq!(copy.as_bytes().as_ptr(), page[5..].as_ptr());

        let mut sizes = HashMap::new();
        sizes.insert(copy, 7);
        assert_eq!(sizes.get("photos/café.jpg"), Some(&7));
        assert_eq!(sizes.keys().next(), Some(&key));

        let sorted: BTreeSet<Text> = ["b", "a/", "a", "é", "Z"].map(Text::from).into();
        let strs: Vec<&str> = sorted.iter().map(|t| t.as_str()).collect();
        let mut want = vec!["b", "a/", "a", "é", "Z"];
        want.sort_unstable();
        assert_eq!(strs, want);

        let owned: String = Text::from(String::from("x")).into();
        assert_eq!(owned, "x");
        assert_eq!(Text::default(), "");
    }
}
