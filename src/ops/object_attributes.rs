//! GetObjectAttributes: an object's ETag, checksum, parts, storage class and size in one
//! call, without its data.

use super::MAX_XML_BODY;
use super::sse::{ExtraHeaders, extra_setters, scope};
use crate::checksum::{ChecksumAlgorithm, ChecksumType};
use crate::client::Bucket;
use crate::error::{Error, Result};
use crate::headers::{header, header_string, http_date, request_id};
use crate::request::OpRequest;
use crate::types::PartInfo;
use crate::xml;
use http::Method;
use std::time::SystemTime;

/// One attribute GetObjectAttributes can return (`x-amz-object-attributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectAttribute {
    /// The entity tag.
    ETag,
    /// The stored checksum and its type.
    Checksum,
    /// The parts of a multipart object (their count, and each part with its size and
    /// checksum when the object has checksums).
    ObjectParts,
    /// The storage class.
    StorageClass,
    /// The size in bytes.
    ObjectSize,
}

impl ObjectAttribute {
    /// Every attribute, in the order S3 lists them.
    pub const ALL: [ObjectAttribute; 5] = [
        ObjectAttribute::ETag,
        ObjectAttribute::Checksum,
        ObjectAttribute::ObjectParts,
        ObjectAttribute::StorageClass,
        ObjectAttribute::ObjectSize,
    ];

    fn name(self) -> &'static str {
        match self {
            ObjectAttribute::ETag => "ETag",
            ObjectAttribute::Checksum => "Checksum",
            ObjectAttribute::ObjectParts => "ObjectParts",
            ObjectAttribute::StorageClass => "StorageClass",
            ObjectAttribute::ObjectSize => "ObjectSize",
        }
    }
}

/// Reads an object's attributes. Built by [`Bucket::get_object_attributes`]; await it.
///
/// Asks for every attribute unless [`attributes`](Self::attributes) names some. For a
/// multipart object the parts come a page at a time ([`max_parts`](Self::max_parts),
/// [`part_number_marker`](Self::part_number_marker)); S3 lists each part only for objects
/// stored with a checksum, and always gives the count.
/// See the [GetObjectAttributes API reference](https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for no attributes or
/// `max_parts` outside 1 ..= 1000, before anything is sent;
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing object (without
/// `s3:ListBucket` S3 answers 403 instead:
/// [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied)); [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse)
/// for a malformed answer; otherwise the service's error.
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct GetObjectAttributes {
    bucket: Bucket,
    key: String,
    attributes: Vec<ObjectAttribute>,
    version_id: Option<String>,
    max_parts: Option<u32>,
    part_number_marker: Option<u32>,
    extra: ExtraHeaders,
}

/// What GetObjectAttributes returns; attributes not asked for (or not reported) are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectAttributes {
    /// The entity tag, quoted like every other ETag (S3 sends it without quotes here; they
    /// are added), e.g. `"c7b4f1a4d0b5a7f5bd1d4a1de9b8d1f7-2"`.
    pub etag: Option<String>,
    /// The stored checksum and its algorithm (`…-<parts>` for a composite checksum).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// How that checksum was formed.
    pub checksum_type: Option<ChecksumType>,
    /// The parts, for a multipart object.
    pub parts: Option<ObjectParts>,
    /// The storage class.
    pub storage_class: Option<String>,
    /// The size in bytes.
    pub object_size: Option<u64>,
    /// When the object was last written (`Last-Modified`).
    pub last_modified: Option<SystemTime>,
    /// The version id, for versioned buckets.
    pub version_id: Option<String>,
    /// Whether the version is a delete marker (`x-amz-delete-marker`).
    pub delete_marker: bool,
    /// The request id.
    pub request_id: Option<String>,
}

/// One page of the parts of a multipart object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectParts {
    /// How many parts the object has.
    pub parts_count: Option<u32>,
    /// The parts on this page, with number, size and checksum (S3 gives no part ETag here).
    pub parts: Vec<PartInfo>,
    /// Whether more parts follow; ask again with
    /// [`part_number_marker`](GetObjectAttributes::part_number_marker) set to
    /// `next_part_number_marker`.
    pub is_truncated: bool,
    /// Where the next page starts.
    pub next_part_number_marker: Option<u32>,
}

impl Bucket {
    /// Reads the attributes of `key` (ETag, checksum, parts, storage class, size) without
    /// its data.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// use async_s3::ObjectAttribute;
    /// let a = bucket
    ///     .get_object_attributes("big.bin")
    ///     .attributes([ObjectAttribute::Checksum, ObjectAttribute::ObjectParts])
    ///     .await?;
    /// println!("{:?} in {:?} parts", a.checksum, a.parts.and_then(|p| p.parts_count));
    /// # Ok(()) }
    /// ```
    pub fn get_object_attributes(&self, key: impl Into<String>) -> GetObjectAttributes {
        GetObjectAttributes {
            bucket: self.clone(),
            key: key.into(),
            attributes: ObjectAttribute::ALL.to_vec(),
            version_id: None,
            max_parts: None,
            part_number_marker: None,
            extra: ExtraHeaders::default(),
        }
    }
}

impl GetObjectAttributes {
    /// Asks for these attributes only (at least one).
    pub fn attributes(mut self, attributes: impl IntoIterator<Item = ObjectAttribute>) -> Self {
        self.attributes = attributes.into_iter().collect();
        self
    }

    /// Reads this version rather than the current one.
    pub fn version_id(mut self, v: impl Into<String>) -> Self {
        self.version_id = Some(v.into());
        self
    }

    /// At most this many parts per answer (1 ..= 1000; S3's default is 1000).
    pub fn max_parts(mut self, n: u32) -> Self {
        self.max_parts = Some(n);
        self
    }

    /// Lists the parts after this part number.
    pub fn part_number_marker(mut self, n: u32) -> Self {
        self.part_number_marker = Some(n);
        self
    }

    extra_setters!(extra => sse_customer_key, request_payer);

    async fn send(self) -> Result<ObjectAttributes> {
        let ctx = |e: Error| {
            e.with_context(
                "GetObjectAttributes",
                Some(&self.bucket.name),
                Some(&self.key),
            )
        };
        if self.attributes.is_empty() {
            return Err(ctx(Error::invalid_input("ask for at least one attribute")));
        }
        if let Some(n) = self.max_parts
            && !(1..=1000).contains(&n)
        {
            return Err(ctx(Error::invalid_input(format!(
                "max_parts {n} is outside 1 ..= 1000"
            ))));
        }
        let mut names: Vec<&str> = Vec::new();
        for a in &self.attributes {
            if !names.contains(&a.name()) {
                names.push(a.name());
            }
        }
        let params = [
            Some(("attributes", "")),
            self.version_id.as_deref().map(|v| ("versionId", v)),
        ];
        let mut req = OpRequest::new("GetObjectAttributes", Method::GET)
            .bucket(&self.bucket.name)
            .key(&self.key)
            .query(params.into_iter().flatten())
            .header("x-amz-object-attributes", names.join(","));
        if let Some(n) = self.max_parts {
            req = req.header("x-amz-max-parts", n.to_string());
        }
        if let Some(n) = self.part_number_marker {
            req = req.header("x-amz-part-number-marker", n.to_string());
        }
        self.extra.validate().map_err(ctx)?;
        req = self.extra.apply(req, scope::READ);
        let resp = self.bucket.execute(req).await?;
        let h = &resp.headers;
        let last_modified = header(h, "last-modified").and_then(http_date);
        let version_id = header_string(h, "x-amz-version-id");
        let delete_marker = header(h, "x-amz-delete-marker").is_some_and(|v| v.trim() == "true");
        let rid = request_id(h);
        let body = resp.bytes_limited(MAX_XML_BODY).await.map_err(ctx)?;
        let doc = xml::parse_object_attributes(&body).map_err(|e| {
            ctx(Error::invalid_response("malformed GetObjectAttributesResponse").with_source(e))
        })?;
        Ok(ObjectAttributes {
            etag: doc.etag.map(|e| {
                if e.starts_with('"') {
                    e
                } else {
                    format!("\"{e}\"")
                }
            }),
            checksum: doc.checksum,
            checksum_type: doc.checksum_type,
            parts: doc.parts.map(|p| ObjectParts {
                parts_count: p.parts_count,
                parts: p.parts,
                is_truncated: p.is_truncated,
                next_part_number_marker: p.next_part_number_marker,
            }),
            storage_class: doc.storage_class,
            object_size: doc.object_size,
            last_modified,
            version_id,
            delete_marker,
            request_id: rid,
        })
    }
}

super::into_future!(GetObjectAttributes => ObjectAttributes);
