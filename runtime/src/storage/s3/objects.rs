//! Reading, listing and deleting the objects of an [`S3Store`], and writing
//! one at once: what ETL, compaction, the ledger and the Lambda host's
//! pipeline file need beside the lake writer's uploads.

use std::io;

use bytes::Bytes;

use super::S3Store;
use super::upload::put;
use crate::storage::aws::AwsError;
use crate::storage::join_key;

impl S3Store {
    /// Every object under `dir` (relative to the prefix), with its key
    /// relative to the prefix and its size, in key order.
    pub fn list(&self, dir: &str) -> io::Result<Vec<(String, u64)>> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let root = self.prefix.clone();
        let prefix = match join_key(&self.prefix, dir) {
            key if key.is_empty() => key,
            key => key + "/",
        };
        self.block(async move {
            let mut pages = client
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(&prefix)
                .into_paginator()
                .send();
            let mut objects = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|err| {
                    AwsError::of(&err).into_io(format!("cannot list s3://{bucket}/{prefix}"))
                })?;
                for object in page.contents() {
                    let key = object.key().unwrap_or_default();
                    let relative = key
                        .strip_prefix(root.as_str())
                        .unwrap_or(key)
                        .trim_start_matches('/');
                    objects.push((
                        relative.to_string(),
                        object.size().unwrap_or(0).max(0) as u64,
                    ));
                }
            }
            Ok(objects)
        })?
    }

    /// The folders directly under `dir` (relative to the prefix), by one
    /// delimited listing: however many objects they hold, no object is
    /// listed. With `first_only`, one page of at most one entry: enough to
    /// tell whether `dir` holds anything.
    pub fn folders(&self, dir: &str, first_only: bool) -> io::Result<(Vec<String>, bool)> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let prefix = match join_key(&self.prefix, dir) {
            key if key.is_empty() => key,
            key => key + "/",
        };
        self.block(async move {
            let mut request = client
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(&prefix)
                .delimiter("/");
            if first_only {
                request = request.max_keys(1);
            }
            let mut pages = request.into_paginator().send();
            let (mut folders, mut objects) = (Vec::new(), false);
            while let Some(page) = pages.next().await {
                let page = page.map_err(|err| {
                    AwsError::of(&err).into_io(format!("cannot list s3://{bucket}/{prefix}"))
                })?;
                objects |= !page.contents().is_empty();
                folders.extend(page.common_prefixes().iter().filter_map(|common| {
                    let name = common.prefix()?.strip_prefix(prefix.as_str())?;
                    Some(name.trim_end_matches('/').to_string())
                }));
                if first_only {
                    break;
                }
            }
            Ok((folders, objects))
        })?
    }

    /// The bytes of object `key` (relative to the prefix).
    pub fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        self.read_versioned(key).map(|(bytes, _)| bytes)
    }

    /// The bytes of object `key` (relative to the prefix) and its ETag, from
    /// one request, so the two always belong together.
    pub fn read_versioned(&self, key: &str) -> io::Result<(Vec<u8>, String)> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let key = join_key(&self.prefix, key);
        self.block(async move {
            // A missing key (or bucket) reads as not found, as a missing
            // file does, so callers match on the kind, not the text.
            let object = client
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|err| {
                    AwsError::of(&err).into_io(format!("cannot read s3://{bucket}/{key}"))
                })?;
            let etag = object.e_tag().unwrap_or_default().to_string();
            let bytes = object.body.collect().await.map_err(|err| {
                io::Error::other(format!("cannot read s3://{bucket}/{key}: {err}"))
            })?;
            Ok((bytes.to_vec(), etag))
        })?
    }

    /// The ETag of object `key` (relative to the prefix), by a HEAD request.
    pub fn etag(&self, key: &str) -> io::Result<String> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let key = join_key(&self.prefix, key);
        self.block(async move {
            client
                .head_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map(|head| head.e_tag().unwrap_or_default().to_string())
                .map_err(|err| {
                    AwsError::of(&err).into_io(format!("cannot read s3://{bucket}/{key}"))
                })
        })?
    }

    /// Remove object `key` (relative to the prefix); a missing one is fine.
    pub fn delete(&self, key: &str) -> io::Result<()> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let key = join_key(&self.prefix, key);
        self.block(async move {
            client
                .delete_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map(|_| ())
                .map_err(|err| {
                    AwsError::of(&err).into_io(format!("cannot delete s3://{bucket}/{key}"))
                })
        })?
    }

    /// Write object `key` (relative to the prefix) and wait until it is
    /// durable.
    pub fn write_now(&self, key: &str, body: Vec<u8>, content_type: &str) -> io::Result<()> {
        let client = self.shared.client.clone();
        let bucket = self.bucket.clone();
        let key = join_key(&self.prefix, key);
        let content_type = content_type.to_string();
        let part_size = self.shared.part_size;
        self.block(async move {
            put(
                &client,
                &bucket,
                &key,
                Bytes::from(body),
                &content_type,
                part_size,
            )
            .await
            .map_err(|err| err.into_io(format!("could not write s3://{bucket}/{key}")))
        })?
    }
}
