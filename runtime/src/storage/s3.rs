//! The lake on S3, or any server that speaks its protocol, through the AWS
//! SDK: the standard credential chain, the SDK's retries with exponential
//! backoff, and multipart uploads past the part size.
//!
//! The SDK is async and the pipeline is not, so the store owns a small tokio
//! runtime: uploads are spawned on it and the pipeline only waits when too
//! many are under way, or at the end.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;

use super::aws::{AwsError, AwsProblem};
use super::{InFlight, Location, join_key};

mod objects;
mod upload;

use upload::put;

/// The `[s3]` table of a pipeline file: how Weir talks to S3. Credentials
/// and, by default, the region and endpoint come from the standard AWS
/// chain (environment, profiles, SSO, container and instance roles).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Options {
    /// An S3-compatible server to use instead of AWS (MinIO, moto, …).
    /// `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL` are honoured too.
    pub endpoint_url: Option<String>,
    /// The region; default from the chain, else `us-east-1`.
    pub region: Option<String>,
    /// Address buckets as `host/bucket` rather than `bucket.host`. Default:
    /// on when an endpoint override is in effect, off for AWS.
    pub force_path_style: Option<bool>,
    /// Objects larger than this go up by multipart upload, in parts of this
    /// size. Default 8 MiB; at least 5 MiB, S3's smallest part.
    pub part_size_mib: u64,
    /// Attempts per request (the first try included) before a write is an
    /// error. Default 5.
    pub max_attempts: u32,
    /// Objects uploaded at once while the pipeline goes on. Default 4.
    pub concurrency: usize,
    /// Seconds one attempt of a request may take before it is abandoned
    /// (and retried, while attempts remain): a server that stops answering
    /// costs this long, never a run that waits forever. Default 120.
    pub attempt_timeout_secs: u64,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            endpoint_url: None,
            region: None,
            force_path_style: None,
            part_size_mib: 8,
            max_attempts: 5,
            concurrency: 4,
            attempt_timeout_secs: 120,
        }
    }
}

/// A value of the `[s3]` table out of its range; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadS3Option(String);

impl S3Options {
    /// Check the values; the message names the key at fault.
    pub fn check(&self) -> Result<(), BadS3Option> {
        self.find_fault().map_err(BadS3Option)
    }

    fn find_fault(&self) -> Result<(), String> {
        if !(5..=5 * 1024).contains(&self.part_size_mib) {
            return Err("s3.part_size_mib must be between 5 and 5120".into());
        }
        if !(1..=20).contains(&self.max_attempts) {
            return Err("s3.max_attempts must be between 1 and 20".into());
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err("s3.concurrency must be between 1 and 64".into());
        }
        if !(1..=3600).contains(&self.attempt_timeout_secs) {
            return Err("s3.attempt_timeout_secs must be between 1 and 3600".into());
        }
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "s3.endpoint_url `{url}` must begin with http:// or https://"
            ));
        }
        Ok(())
    }
}

/// A tokio runtime that may be dropped anywhere, even inside another
/// runtime (a Lambda handler's): it is shut down without blocking.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What every view of one connection shares.
struct Shared {
    runtime: Runtime,
    client: Client,
    uploads: InFlight,
    part_size: usize,
    concurrency: usize,
}

impl Shared {
    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.0.as_ref().expect("present until dropped")
    }
}

/// An upload under way. It leaves the count of uploads however its task
/// ends: an upload whose task panicked or was cancelled is a failure, never
/// a wait that lasts forever.
struct Ticket {
    shared: Arc<Shared>,
    object: String,
    /// `Some(error or none)` once the upload finished.
    outcome: Option<Option<String>>,
}

impl Ticket {
    /// The upload finished, with this error or none.
    fn done(&mut self, error: Option<String>) {
        self.outcome = Some(error);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let failure = match self.outcome.take() {
            Some(error) => error.map(|error| format!("{}: {error}", self.object)),
            None => Some(format!(
                "{}: the upload stopped before it finished",
                self.object
            )),
        };
        self.shared.uploads.end(failure);
    }
}

/// A bucket and prefix, with a client.
pub struct S3Store {
    shared: Arc<Shared>,
    bucket: String,
    prefix: String,
}

impl S3Store {
    /// A client for `bucket`, keys under `prefix`. Nothing is sent yet:
    /// missing credentials show at the first request.
    pub fn connect(bucket: &str, prefix: &str, options: &S3Options) -> io::Result<S3Store> {
        options
            .check()
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("weir-s3")
            .enable_all()
            .build()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = block_on(&runtime, loader.load())?;
        let endpoint_overridden = options.endpoint_url.is_some()
            || ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                .iter()
                .any(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()));
        let mut config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(options.force_path_style.unwrap_or(endpoint_overridden))
            // A server that stops answering fails the attempt after this
            // long (and the request once its attempts and their backoffs
            // are spent), never a run that waits forever.
            .timeout_config({
                let attempt = Duration::from_secs(options.attempt_timeout_secs);
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(attempt)
                    .operation_timeout(attempt * options.max_attempts + Duration::from_secs(60))
                    .build()
            })
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(options.max_attempts)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            );
        if sdk.region().is_none() {
            config = config.region(Region::from_static("us-east-1"));
        }
        Ok(S3Store {
            shared: Arc::new(Shared {
                runtime: Runtime(Some(runtime)),
                client: Client::from_conf(config.build()),
                uploads: InFlight::default(),
                part_size: options.part_size_mib as usize * 1024 * 1024,
                concurrency: options.concurrency,
            }),
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The store rooted at `name` under this one's prefix.
    pub fn child(&self, name: &str) -> S3Store {
        self.elsewhere(&self.bucket, &join_key(&self.prefix, name))
    }

    /// The same client for another bucket and prefix.
    pub fn elsewhere(&self, bucket: &str, prefix: &str) -> S3Store {
        S3Store {
            shared: self.shared.clone(),
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        }
    }

    /// Where this store is.
    pub fn location(&self) -> Location {
        Location::S3 {
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
        }
    }

    /// The client, for callers that talk to S3 directly.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Run a future on the store's runtime, from async code on any runtime.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.runtime().spawn(future)
    }

    /// Run a future on the store's runtime and wait for it.
    pub fn block<F>(&self, future: F) -> io::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        block_on(self.shared.runtime(), future)
    }

    /// Start uploading `body` as `key` (relative to the prefix). Waits while
    /// `concurrency` uploads are under way; fails at once when an earlier
    /// upload has failed.
    pub fn upload(&self, key: &str, body: Vec<u8>, content_type: &str) -> io::Result<()> {
        let shared = self.shared.clone();
        shared.uploads.begin(shared.concurrency)?;
        let bucket = self.bucket.clone();
        let key = join_key(&self.prefix, key);
        let content_type = content_type.to_string();
        let mut ticket = Ticket {
            shared: shared.clone(),
            object: format!("s3://{bucket}/{key}"),
            outcome: None,
        };
        shared.runtime().spawn(async move {
            let result = put(
                &ticket.shared.client,
                &bucket,
                &key,
                Bytes::from(body),
                &content_type,
                ticket.shared.part_size,
            )
            .await;
            ticket.done(result.err().map(|err| err.to_string()));
        });
        Ok(())
    }

    /// Write `(key, body, content type)` objects, `concurrency` at a time,
    /// and wait for all: one result per object, in order, each error naming
    /// its object. A write not finished by `deadline` is given up and failed.
    pub fn put_each(
        &self,
        objects: Vec<(String, Vec<u8>, &'static str)>,
        deadline: Option<std::time::Instant>,
    ) -> Vec<io::Result<()>> {
        let count = objects.len();
        let puts: Vec<_> = objects
            .into_iter()
            .map(|(key, body, content_type)| {
                let client = self.shared.client.clone();
                let bucket = self.bucket.clone();
                let key = join_key(&self.prefix, &key);
                let part_size = self.shared.part_size;
                async move {
                    let body = Bytes::from(body);
                    let write = put(&client, &bucket, &key, body, content_type, part_size);
                    let result = match deadline {
                        Some(at) => tokio::time::timeout_at(at.into(), write)
                            .await
                            .unwrap_or_else(|_| {
                                Err(AwsError::new(
                                    AwsProblem::TimedOut,
                                    "not finished before the invocation's deadline".into(),
                                ))
                            }),
                        None => write.await,
                    };
                    result
                        .map_err(|err| err.into_io(format!("could not write s3://{bucket}/{key}")))
                }
            })
            .collect();
        let concurrency = self.shared.concurrency;
        let outcome = self.block(async move {
            futures::stream::iter(puts)
                .buffered(concurrency)
                .collect::<Vec<_>>()
                .await
        });
        match outcome {
            Ok(results) => results,
            Err(err) => (0..count)
                .map(|_| Err(io::Error::new(err.kind(), err.to_string())))
                .collect(),
        }
    }

    /// Wait for every upload started; an error names each object that could
    /// not be written.
    pub fn wait_all(&self) -> io::Result<()> {
        let failures = self.shared.uploads.wait_idle();
        match failures.len() {
            0 => Ok(()),
            1 => Err(io::Error::other(format!("could not write {}", failures[0]))),
            n => Err(io::Error::other(format!(
                "could not write {n} objects; the first: {}",
                failures[0]
            ))),
        }
    }
}

/// Spawn `future` on `runtime` and wait for its output on this thread (which
/// must not be one of the runtime's own).
fn block_on<F>(runtime: &tokio::runtime::Runtime, future: F) -> io::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = sender.send(future.await);
    });
    receiver
        .recv()
        .map_err(|_| io::Error::other("the S3 client's runtime stopped"))
}
