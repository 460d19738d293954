//! Options of a multipart upload beyond the plain calls: a conditional completion (the
//! `CompleteMultipartUpload` builder: `If-None-Match: *`, `If-Match`), and handles on a
//! resumed upload that carry an SSE-C key or agree to pay for requests.

use super::multipart::MultipartUpload;
use super::multipart_complete::CompleteMultipartUploadOutput;
use super::sse::{ExtraHeaders, SseCustomerKey, scope};
use crate::error::Result;
use crate::types::PartInfo;

/// Completes a multipart upload, optionally only under a condition. Built by
/// [`MultipartUpload::completion`]; await it.
///
/// With [`if_none_match_any`](Self::if_none_match_any) the object is written only if no
/// object exists under the key (a create-only write); with [`if_match`](Self::if_match) only
/// if the current object has that entity tag (no lost update). Otherwise the same as
/// [`MultipartUpload::complete_with`].
///
/// # Errors
///
/// Those of [`MultipartUpload::complete_with`];
/// [`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed) (412) when the
/// condition does not hold (the upload stays open: abort it; a retry that meets 412 after an
/// earlier attempt's answer was lost is checked against the object, as for `NoSuchUpload`);
/// [`ErrorKind::ConditionalConflict`](crate::ErrorKind::ConditionalConflict) (409
/// `ConditionalRequestConflict`) when another conditional write to the key ran at the same
/// time: S3 has dropped the upload, so the completion is sent once, the error is not
/// [retryable](crate::Error::is_retryable), and the whole upload must be made again (abort
/// this one, start a new one).
///
/// # Cancel safety
///
/// Dropping the future may leave the object completed or the upload still open.
#[derive(Debug)]
#[must_use = "a request does nothing until awaited"]
pub struct CompleteMultipartUpload {
    upload: MultipartUpload,
    parts: Option<Vec<PartInfo>>,
    extra: ExtraHeaders,
}

impl MultipartUpload {
    /// A completion of this upload that can carry conditions; without
    /// [`parts`](CompleteMultipartUpload::parts) it lists every part uploaded through this
    /// handle.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(bucket: async_s3::Bucket) -> Result<(), async_s3::Error> {
    /// let upload = bucket.create_multipart_upload("once.bin").await?;
    /// upload.upload_part(1, vec![0u8; 1024]).await?;
    /// match upload.completion().if_none_match_any().await {
    ///     Ok(_) => {}
    ///     Err(e) if e.kind() == async_s3::ErrorKind::PreconditionFailed => {
    ///         upload.abort().await?; // someone else wrote once.bin first
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn completion(&self) -> CompleteMultipartUpload {
        CompleteMultipartUpload {
            upload: self.clone(),
            parts: None,
            extra: ExtraHeaders::default(),
        }
    }

    /// A handle on the same upload whose parts, ListParts and completion carry this SSE-C key
    /// (not the abort), for an
    /// upload created with it and resumed with [`Bucket::multipart_upload`](crate::Bucket::multipart_upload).
    /// The new handle starts a fresh record of uploaded parts.
    #[must_use]
    pub fn with_sse_customer_key(&self, key: &SseCustomerKey) -> Self {
        let mut extra = ExtraHeaders::default();
        extra.sse_customer(key, false, scope::SSE_C);
        self.with_extra(&extra)
    }

    /// A handle on the same upload whose requests agree to pay for themselves on a
    /// Requester Pays bucket (`x-amz-request-payer: requester`). The new handle starts a
    /// fresh record of uploaded parts.
    #[must_use]
    pub fn with_request_payer(&self) -> Self {
        let mut extra = ExtraHeaders::default();
        extra.request_payer();
        self.with_extra(&extra)
    }
}

impl CompleteMultipartUpload {
    /// Completes with exactly these parts instead of those uploaded through the handle.
    pub fn parts(mut self, parts: Vec<PartInfo>) -> Self {
        self.parts = Some(parts);
        self
    }

    /// Writes the object only if no object exists under the key (`If-None-Match: *`).
    pub fn if_none_match_any(mut self) -> Self {
        self.extra
            .set("if-none-match", "*".to_owned(), scope::FINISH);
        self
    }

    /// Writes the object only if the current object under the key has this entity tag
    /// (`If-Match`).
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.extra.set("if-match", etag.into(), scope::FINISH);
        self
    }

    super::sse::extra_setters!(extra => request_payer);

    async fn send(self) -> Result<CompleteMultipartUploadOutput> {
        let parts = match self.parts {
            Some(parts) => parts,
            None => self.upload.uploaded_parts(),
        };
        if let Err(e) = self.extra.validate() {
            return Err(e.with_context(
                "CompleteMultipartUpload",
                Some(self.upload.bucket().name()),
                Some(self.upload.key()),
            ));
        }
        self.upload.complete_inner(parts, &self.extra).await
    }
}

super::into_future!(CompleteMultipartUpload => CompleteMultipartUploadOutput);
