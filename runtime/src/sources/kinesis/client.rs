//! The Kinesis client `weir send` and `weir consume` share: the standard
//! credential chain, the SDK's retries, and an endpoint override for a local
//! server (`--endpoint`, `AWS_ENDPOINT_URL_KINESIS` or `AWS_ENDPOINT_URL`).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::config::Region;
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};

use crate::storage::aws::AwsError;

/// A Kinesis client and the runtime its requests run on. The callers are
/// synchronous (the pipeline is), so they block on [`Kinesis::block`].
pub struct Kinesis {
    runtime: tokio::runtime::Runtime,
    /// The SDK client.
    pub client: Client,
}

impl Kinesis {
    /// A client for `endpoint` (else the SDK's own resolution), with the
    /// SDK's standard retries for throttling and server errors.
    pub fn connect(endpoint: Option<&str>) -> std::io::Result<Kinesis> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("weir-kinesis")
            .enable_all()
            .build()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let sdk = runtime.block_on(loader.load());
        let mut config = aws_sdk_kinesis::config::Builder::from(&sdk)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(5)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            )
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if sdk.region().is_none() {
            config = config.region(Region::from_static("us-east-1"));
        }
        Ok(Kinesis {
            runtime,
            client: Client::from_conf(config.build()),
        })
    }

    /// Run a task on the client's runtime, in the background.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    /// Run a request and wait for it.
    pub fn block<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Whether the service will answer a request the same way however often it
/// is sent again: a stream that does not exist, access denied, credentials
/// missing or refused, a request the service calls invalid. Throttling,
/// server errors, timeouts and broken connections are worth retrying.
pub fn is_permanent<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        // Built wrong, or no credentials or endpoint to send it with.
        SdkError::ConstructionFailure(_) => true,
        SdkError::DispatchFailure(failure) => !(failure.is_io() || failure.is_timeout()),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => false,
        SdkError::ServiceError(service) => {
            let transient_code = service.err().code().is_some_and(|code| {
                matches!(
                    code,
                    "ProvisionedThroughputExceededException"
                        | "LimitExceededException"
                        | "ThrottlingException"
                        | "KMSThrottlingException"
                        | "InternalFailure"
                        | "ServiceUnavailable"
                        | "RequestExpired"
                )
            });
            let status = service.raw().status().as_u16();
            !transient_code && (400..500).contains(&status) && status != 429
        }
        _ => false,
    }
}

/// An SDK error as an [`AwsError`]: the kind of problem, what the service
/// said, and what to check.
pub fn describe<E>(err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    AwsError::of(&err)
}
