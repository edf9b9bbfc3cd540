//! An AWS SDK error said in one line a user can act on: what kind of
//! problem it is (no such resource, access denied, no credentials, another
//! region, an endpoint that does not answer, …), the service's own code and
//! message, and what to check. S3 errors here, Kinesis errors above use it
//! too: the SDK's error type is the same for every service.
//!
//! The SDK's own `Display` of an error is a word (`service error`) and its
//! `Debug`, the only full account, runs to kilobytes of headers and bodies;
//! neither belongs in a message.

use std::error::Error;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// The kinds of AWS failure a user fixes differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsProblem {
    /// No such bucket, key or stream.
    NotFound,
    /// The credentials are valid and not allowed to do this.
    AccessDenied,
    /// The credentials were refused: unknown, expired, or mis-signed.
    BadCredentials,
    /// No credentials anywhere in the standard chain, or a chain that
    /// could not be read.
    NoCredentials,
    /// The resource lives in another region.
    WrongRegion,
    /// The endpoint could not be reached: no such host, refused, TLS.
    Unreachable,
    /// The endpoint did not answer in time.
    TimedOut,
    /// The service is throttling requests.
    Throttled,
    /// Anything else.
    Other,
}

impl AwsProblem {
    /// What to check, for a person.
    fn advice(self) -> &'static str {
        match self {
            AwsProblem::NotFound => "check the name, the region and the endpoint",
            AwsProblem::AccessDenied => {
                "the credentials in use may not do this: check their IAM policy (`aws sts get-caller-identity` shows whose they are)"
            }
            AwsProblem::BadCredentials => {
                "the credentials were refused: check that they are current (`aws sso login`, or new keys) and for the right account"
            }
            AwsProblem::NoCredentials => {
                "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
            }
            AwsProblem::WrongRegion => {
                "it is in another region: set the region (AWS_REGION, or s3.region in the pipeline file)"
            }
            AwsProblem::Unreachable => {
                "check the endpoint (AWS_ENDPOINT_URL, s3.endpoint_url or --endpoint-url) and the network"
            }
            AwsProblem::TimedOut => "no answer in time: check the endpoint and the network",
            AwsProblem::Throttled => {
                "the service is throttling requests: try again later, or more slowly"
            }
            AwsProblem::Other => "",
        }
    }
}

/// An AWS request that failed, in one line: the problem, what the service
/// or the connection said, and what to check.
#[derive(Clone, Debug)]
pub struct AwsError {
    /// The kind of problem.
    pub problem: AwsProblem,
    /// The service's error code (`NoSuchBucket`), or empty.
    pub code: String,
    /// The service's code and message, or the connection's deepest cause.
    pub detail: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.problem {
            AwsProblem::NotFound => "not found",
            AwsProblem::AccessDenied => "access denied",
            AwsProblem::BadCredentials => "credentials refused",
            AwsProblem::NoCredentials => "no AWS credentials",
            AwsProblem::WrongRegion => "wrong region",
            AwsProblem::Unreachable => "endpoint unreachable",
            AwsProblem::TimedOut => "timed out",
            AwsProblem::Throttled => "throttled",
            AwsProblem::Other => "",
        };
        match (what.is_empty(), self.detail.is_empty()) {
            (true, _) => write!(f, "{}", self.detail)?,
            (false, true) => write!(f, "{what}")?,
            (false, false) => write!(f, "{what} ({})", self.detail)?,
        }
        match self.problem.advice() {
            "" => Ok(()),
            advice => write!(f, ": {advice}"),
        }
    }
}

impl Error for AwsError {}

impl AwsError {
    /// A problem with no service error code.
    pub fn new(problem: AwsProblem, detail: String) -> AwsError {
        AwsError {
            problem,
            code: String::new(),
            detail,
        }
    }

    /// Classify an SDK error.
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + Error + 'static,
    {
        match err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or_default();
                let message = service.err().message().unwrap_or_default();
                let status = service.raw().status().as_u16();
                let detail = match (code.is_empty(), message.is_empty()) {
                    (true, _) => format!("HTTP {status}"),
                    (false, true) => code.to_string(),
                    (false, false) => format!("{code}: {message}"),
                };
                AwsError {
                    problem: problem_of(code, status),
                    code: code.to_string(),
                    detail,
                }
            }
            SdkError::DispatchFailure(failure) => {
                if let Some(credentials) = find::<CredentialsError>(err) {
                    let detail = match credentials {
                        CredentialsError::CredentialsNotLoaded(_) => String::new(),
                        other => deepest(other),
                    };
                    return AwsError::new(AwsProblem::NoCredentials, detail);
                }
                let problem = if failure.is_timeout() {
                    AwsProblem::TimedOut
                } else if failure.is_io() {
                    AwsProblem::Unreachable
                } else {
                    AwsProblem::Other
                };
                AwsError::new(problem, deepest(err))
            }
            SdkError::TimeoutError(_) => AwsError::new(AwsProblem::TimedOut, String::new()),
            _ => AwsError::new(AwsProblem::Other, deepest(err)),
        }
    }

    /// As an I/O error of the matching kind, for the storage interface. A
    /// missing key is `NotFound`, as a missing file is; a missing bucket is
    /// not, since nothing can be written there either.
    pub fn into_io(self, context: String) -> std::io::Error {
        let kind = match self.problem {
            AwsProblem::NotFound if self.code != "NoSuchBucket" => std::io::ErrorKind::NotFound,
            AwsProblem::AccessDenied | AwsProblem::BadCredentials | AwsProblem::NoCredentials => {
                std::io::ErrorKind::PermissionDenied
            }
            AwsProblem::TimedOut => std::io::ErrorKind::TimedOut,
            AwsProblem::Unreachable => std::io::ErrorKind::ConnectionRefused,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(
            kind,
            Failed {
                context,
                cause: self,
            },
        )
    }
}

/// A request that failed: what it was, and why. It travels inside an
/// [`std::io::Error`], which is printed whole in many places, so its text
/// holds its cause; callers that need the kind downcast to it.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {cause}")]
pub struct Failed {
    /// What was being done: `cannot read s3://bucket/key`.
    pub context: String,
    /// Why.
    pub cause: AwsError,
}

/// The kind of problem a service error code and HTTP status mean.
fn problem_of(code: &str, status: u16) -> AwsProblem {
    match code {
        "NoSuchBucket"
        | "NoSuchKey"
        | "NoSuchUpload"
        | "ResourceNotFoundException"
        | "NotFound" => AwsProblem::NotFound,
        "AccessDenied"
        | "AccessDeniedException"
        | "AllAccessDisabled"
        | "KMS.AccessDeniedException" => AwsProblem::AccessDenied,
        "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidToken"
        | "IncompleteSignature" => AwsProblem::BadCredentials,
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => AwsProblem::WrongRegion,
        "SlowDown"
        | "ThrottlingException"
        | "Throttling"
        | "ProvisionedThroughputExceededException"
        | "LimitExceededException"
        | "RequestLimitExceeded" => AwsProblem::Throttled,
        _ => match status {
            404 => AwsProblem::NotFound,
            403 => AwsProblem::AccessDenied,
            301 => AwsProblem::WrongRegion,
            429 | 503 => AwsProblem::Throttled,
            _ => AwsProblem::Other,
        },
    }
}

/// The first error of type `T` in `err`'s chain of causes.
fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        cause = err.source();
    }
    None
}

/// The most telling text in `err`'s chain: the deepest cause, with the one
/// above it when that adds words (`tcp connect error: Connection refused`).
fn deepest(err: &(dyn Error + 'static)) -> String {
    let mut chain = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(err) = cause {
        chain.push(err.to_string());
        cause = err.source();
    }
    let last = chain.pop().unwrap_or_default();
    match chain.pop() {
        Some(above) if !above.is_empty() && !last.contains(&above) && !above.contains(&last) => {
            format!("{above}: {last}")
        }
        Some(above) if last.is_empty() => above,
        _ => last,
    }
    .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_name_the_problem() {
        assert_eq!(problem_of("NoSuchBucket", 404), AwsProblem::NotFound);
        assert_eq!(
            problem_of("ResourceNotFoundException", 400),
            AwsProblem::NotFound
        );
        assert_eq!(problem_of("", 404), AwsProblem::NotFound);
        assert_eq!(problem_of("AccessDenied", 403), AwsProblem::AccessDenied);
        assert_eq!(problem_of("", 403), AwsProblem::AccessDenied);
        assert_eq!(
            problem_of("InvalidAccessKeyId", 403),
            AwsProblem::BadCredentials
        );
        assert_eq!(
            problem_of("UnrecognizedClientException", 400),
            AwsProblem::BadCredentials
        );
        assert_eq!(
            problem_of("PermanentRedirect", 301),
            AwsProblem::WrongRegion
        );
        assert_eq!(problem_of("SlowDown", 503), AwsProblem::Throttled);
        assert_eq!(problem_of("InternalError", 500), AwsProblem::Other);
    }

    #[test]
    fn a_problem_reads_as_one_line_with_advice() {
        let err = AwsError {
            problem: AwsProblem::NotFound,
            code: "NoSuchKey".into(),
            detail: "NoSuchKey: The specified key does not exist".into(),
        };
        assert_eq!(
            err.to_string(),
            "not found (NoSuchKey: The specified key does not exist): check the name, the region and the endpoint"
        );
        let io = err.into_io("cannot read s3://b/k".into());
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let failed = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Failed>());
        assert_eq!(
            failed.map(|failed| failed.cause.problem),
            Some(AwsProblem::NotFound)
        );
        assert_eq!(
            crate::ErrorChain(&io).to_string(),
            "cannot read s3://b/k: not found (NoSuchKey: The specified key does not exist): check the name, the region and the endpoint"
        );
    }
}
