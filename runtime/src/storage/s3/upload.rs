//! One object up to S3: a single PUT up to the part size, else a multipart
//! upload with its parts in parallel, aborted if any part fails.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use crate::storage::aws::{AwsError, AwsProblem};

/// Write one object: a single PUT up to the part size, a multipart upload
/// past it (aborted if any part fails, so no parts are left billed).
pub(super) async fn put(
    client: &Client,
    bucket: &str,
    key: &str,
    body: Bytes,
    content_type: &str,
    part_size: usize,
) -> Result<(), AwsError> {
    if body.len() <= part_size {
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|err| AwsError::of(&err))?;
        return Ok(());
    }
    let created = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .send()
        .await
        .map_err(|err| AwsError::of(&err))?;
    let upload_id = created
        .upload_id()
        .ok_or_else(|| {
            AwsError::new(
                AwsProblem::Other,
                "the server gave no multipart upload id".into(),
            )
        })?
        .to_string();
    let parts = upload_parts(client, bucket, key, &upload_id, body, part_size).await;
    let completed = match parts {
        Ok(parts) => client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| AwsError::of(&err)),
        Err(err) => Err(err),
    };
    if completed.is_err() {
        // Best effort: a lifecycle rule cleans up what this cannot.
        let _ = client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    completed
}

/// Upload `body` in parts, a few at once; the completed parts in order.
async fn upload_parts(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    body: Bytes,
    part_size: usize,
) -> Result<Vec<CompletedPart>, AwsError> {
    let count = body.len().div_ceil(part_size);
    let mut parts: Vec<CompletedPart> = futures::stream::iter(0..count)
        .map(|index| {
            let chunk = body.slice(index * part_size..((index + 1) * part_size).min(body.len()));
            let number = index as i32 + 1;
            async move {
                let uploaded = client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(ByteStream::from(chunk))
                    .send()
                    .await
                    .map_err(|err| {
                        let mut err = AwsError::of(&err);
                        err.detail = format!("part {number}: {}", err.detail);
                        err
                    })?;
                Ok::<_, AwsError>(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(uploaded.e_tag().map(str::to_string))
                        .build(),
                )
            }
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    parts.sort_by_key(|part| part.part_number());
    Ok(parts)
}
