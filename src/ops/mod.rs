//! One file per S3 operation: a builder (awaited directly through `IntoFuture`), its output
//! type, the request it builds and how the response maps back.

pub(crate) mod bucket_ops;
pub(crate) mod conditions;
pub(crate) mod copy_object;
pub(crate) mod delete_object;
pub(crate) mod delete_objects;
pub(crate) mod get_object;
pub(crate) mod head_object;
pub(crate) mod integrity;
pub(crate) mod list_objects;
pub(crate) mod meta;
pub(crate) mod multipart;
pub(crate) mod multipart_checksums;
pub(crate) mod multipart_complete;
pub(crate) mod multipart_options;
pub(crate) mod presign;
pub(crate) mod put_object;
pub(crate) mod resumable;
// versioning, tagging, object lock, uploads in progress, presigned POST (issue 11)
pub(crate) mod list_uploads;
pub(crate) mod object_lock;
pub(crate) mod paging;
pub(crate) mod post_policy;
pub(crate) mod tagging;
pub(crate) mod versioning;
// server-side copy, encryption, conditional writes, attributes (issue 11, part B)
pub(crate) mod object_attributes;
pub(crate) mod sse;
pub(crate) mod upload_part_copy;

/// Implements `IntoFuture` for a builder with an `async fn send(self) -> Result<Output>`.
macro_rules! into_future {
    ($builder:ty => $output:ty) => {
        impl ::std::future::IntoFuture for $builder {
            type Output = $crate::error::Result<$output>;
            type IntoFuture = ::std::pin::Pin<
                Box<dyn ::std::future::Future<Output = Self::Output> + Send + 'static>,
            >;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use into_future;

/// Response size caps: XML documents we parse are read into memory up to these.
pub(crate) const MAX_XML_BODY: usize = 16 << 20;
