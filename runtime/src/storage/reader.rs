//! S3 objects read by DataFusion (`weir query`) through the same client,
//! credentials and endpoint settings that write them: an `ObjectStore` that
//! lists, heads and reads (ranges included) and refuses to write.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult,
    MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload,
    PutResult,
};

use super::S3Store;
use super::aws::{AwsError, AwsProblem};

/// One bucket, read-only. Paths are whole keys within the bucket.
pub struct S3Reader {
    store: Arc<S3Store>,
}

impl S3Reader {
    /// A reader of the bucket `store` is in (its prefix is ignored: the
    /// query engine asks for whole keys).
    pub fn new(store: Arc<S3Store>) -> Self {
        S3Reader { store }
    }
}

impl fmt::Debug for S3Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Reader({})", self.store.bucket())
    }
}

impl fmt::Display for S3Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.store.bucket())
    }
}

fn failed<E>(key: &str, err: SdkError<E, HttpResponse>) -> object_store::Error
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let err = AwsError::of(&err);
    if err.problem == AwsProblem::NotFound && err.code != "NoSuchBucket" {
        return object_store::Error::NotFound {
            path: key.to_string(),
            source: Box::new(err),
        };
    }
    object_store::Error::Generic {
        store: "S3",
        source: format!("{key}: {err}").into(),
    }
}

fn joined(err: tokio::task::JoinError) -> object_store::Error {
    object_store::Error::Generic {
        store: "S3",
        source: Box::new(err),
    }
}

fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_string(),
        implementer: "weir query (reads only)".to_string(),
    }
}

fn time(time: Option<&aws_sdk_s3::primitives::DateTime>) -> chrono::DateTime<chrono::Utc> {
    time.and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or_default()
}

/// `bytes a-b/total` → (a..b+1, total), if it describes a range inside the
/// object.
fn content_range(header: &str) -> Option<(std::ops::Range<u64>, u64)> {
    let rest = header.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end, total): (u64, u64, u64) =
        (start.parse().ok()?, end.parse().ok()?, total.parse().ok()?);
    (start <= end && end < total).then(|| (start..end + 1, total))
}

/// An object path as the query engine names it: the key, taken as it is.
fn path(key: &str) -> object_store::Result<Path> {
    Path::parse(key).map_err(|err| object_store::Error::Generic {
        store: "S3",
        source: Box::new(err),
    })
}

/// A whole object, a range of it, or only its metadata.
async fn fetch(
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    options: GetOptions,
) -> object_store::Result<(ObjectMeta, std::ops::Range<u64>, Bytes)> {
    if options.head {
        return head(&client, &bucket, &key).await;
    }
    let requested = options.range.is_some();
    let object = client
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .set_range(options.range.map(range_header))
        .send()
        .await
        .map_err(|err| failed(&key, err))?;
    let length = object.content_length().unwrap_or(0).max(0) as u64;
    let (range, size) = answered_range(&key, object.content_range(), requested, length)?;
    let meta = ObjectMeta {
        location: path(&key)?,
        last_modified: time(object.last_modified()),
        size,
        e_tag: object.e_tag().map(str::to_string),
        version: None,
    };
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|err| generic(format!("{key}: {err}")))?
        .into_bytes();
    if bytes.len() as u64 != range.end - range.start {
        return Err(generic(format!(
            "{key}: the server sent {} bytes for the range {range:?}",
            bytes.len()
        )));
    }
    Ok((meta, range, bytes))
}

/// An object's metadata only (a `HeadObject`), as [`fetch`] answers it:
/// the whole object's range, and no bytes.
async fn head(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> object_store::Result<(ObjectMeta, std::ops::Range<u64>, Bytes)> {
    let head = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|err| failed(key, err))?;
    let size = head.content_length().unwrap_or(0).max(0) as u64;
    let meta = ObjectMeta {
        location: path(key)?,
        last_modified: time(head.last_modified()),
        size,
        e_tag: head.e_tag().map(str::to_string),
        version: None,
    };
    Ok((meta, 0..size, Bytes::new()))
}

/// The HTTP `Range` header of a range the query engine asks for.
fn range_header(range: GetRange) -> String {
    match range {
        GetRange::Bounded(range) => {
            format!("bytes={}-{}", range.start, range.end.saturating_sub(1))
        }
        GetRange::Offset(start) => format!("bytes={start}-"),
        GetRange::Suffix(length) => format!("bytes=-{length}"),
    }
}

/// The range of `key` the server sent and the object's size: from its
/// `Content-Range` (`header`), else the whole object of `length` bytes —
/// an error when a range was `requested` and the server ignored it.
fn answered_range(
    key: &str,
    header: Option<&str>,
    requested: bool,
    length: u64,
) -> object_store::Result<(std::ops::Range<u64>, u64)> {
    match (header, requested) {
        (Some(header), _) => content_range(header).ok_or_else(|| {
            generic(format!(
                "{key}: the server answered with a bad Content-Range {header:?}"
            ))
        }),
        (None, false) => Ok((0..length, length)),
        (None, true) => Err(generic(format!(
            "{key}: the server ignored the byte range asked for"
        ))),
    }
}

/// An S3 failure the query engine can only report: `message` names the key
/// and what went wrong.
fn generic(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "S3",
        source: message.into(),
    }
}

#[async_trait]
impl ObjectStore for S3Reader {
    async fn put_opts(
        &self,
        _: &Path,
        _: PutPayload,
        _: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only("put"))
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only("put_multipart"))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let task = self.store.spawn(fetch(
            self.store.client().clone(),
            self.store.bucket().to_string(),
            location.to_string(),
            options,
        ));
        let (meta, range, bytes) = task.await.map_err(joined)??;
        Ok(GetResult {
            payload: GetResultPayload::Stream(futures::stream::once(async { Ok(bytes) }).boxed()),
            meta,
            range,
            attributes: Attributes::default(),
        })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        locations.map(|_| Err(read_only("delete"))).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let listing = self.list_keys(prefix, false);
        futures::stream::once(listing)
            .map_ok(|result| futures::stream::iter(result.objects.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.list_keys(prefix, true).await
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
        Err(read_only("copy"))
    }
}

impl S3Reader {
    /// Every object under `prefix` (a folder), or with `delimited` only the
    /// objects and sub-folders directly in it.
    fn list_keys(
        &self,
        prefix: Option<&Path>,
        delimited: bool,
    ) -> impl std::future::Future<Output = object_store::Result<ListResult>> + Send + 'static {
        let client = self.store.client().clone();
        let bucket = self.store.bucket().to_string();
        let prefix = prefix
            .map(|p| format!("{}/", p.as_ref().trim_end_matches('/')))
            .filter(|p| p != "/")
            .unwrap_or_default();
        let task = self.store.spawn(async move {
            let mut pages = client
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(&prefix)
                .set_delimiter(delimited.then(|| "/".to_string()))
                .into_paginator()
                .send();
            let mut result = ListResult {
                common_prefixes: Vec::new(),
                objects: Vec::new(),
            };
            while let Some(page) = pages.next().await {
                let page = page.map_err(|err| failed(&prefix, err))?;
                for folder in page.common_prefixes() {
                    if let Some(folder) = folder.prefix() {
                        result
                            .common_prefixes
                            .push(path(folder.trim_end_matches('/'))?);
                    }
                }
                for object in page.contents() {
                    let key = object.key().unwrap_or_default();
                    result.objects.push(ObjectMeta {
                        location: path(key)?,
                        last_modified: time(object.last_modified()),
                        size: object.size().unwrap_or(0).max(0) as u64,
                        e_tag: object.e_tag().map(str::to_string),
                        version: None,
                    });
                }
            }
            Ok(result)
        });
        async move { task.await.map_err(joined)? }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_content_ranges() {
        assert_eq!(
            super::content_range("bytes 0-99/1000"),
            Some((0..100, 1000))
        );
        assert_eq!(
            super::content_range("bytes 900-999/1000"),
            Some((900..1000, 1000))
        );
        assert_eq!(super::content_range("bytes */1000"), None);
        assert_eq!(super::content_range("bytes 10-5/100"), None);
        assert_eq!(super::content_range("bytes 0-100/100"), None);
        assert_eq!(super::content_range("bytes 0-18446744073709551615/5"), None);
    }
}
