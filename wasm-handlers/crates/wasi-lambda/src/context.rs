use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Lambda context of one invocation.
///
/// The WIT world's `context` record (the Runtime API's headers, or the managed runtime's
/// context object) plus its `environment.identity` (the function's configuration), which the
/// host passes once per instance rather than with every invocation.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
/// let ctx = wasi_lambda::Context { deadline_ms: now_ms + 3_000, ..Default::default() };
/// assert!(ctx.remaining_time() <= Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// The function's name.
    pub function_name: String,
    /// The function's version, e.g. `$LATEST`.
    pub function_version: String,
    /// The ARN the caller used, including an alias or version qualifier.
    pub invoked_function_arn: String,
    /// The configured memory size in MB.
    pub memory_limit_mb: u32,
    /// When Lambda stops the invocation, in milliseconds since the Unix epoch.
    pub deadline_ms: u64,
    /// The CloudWatch log group the function writes to.
    pub log_group_name: String,
    /// The CloudWatch log stream of this execution environment.
    pub log_stream_name: String,
    /// The X-Ray trace header, when tracing is active.
    pub xray_trace_id: Option<String>,
    /// The client context sent by the AWS mobile SDKs, as JSON.
    pub client_context: Option<String>,
    /// The Amazon Cognito identity of the caller, as JSON.
    pub identity: Option<String>,
    /// The tenant id of a multi-tenant function.
    pub tenant_id: Option<String>,
}

impl Context {
    /// The instant at which Lambda stops this invocation.
    pub fn deadline(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.deadline_ms)
    }

    /// Time left before the deadline, measured against the (WASI) wall clock; zero once it
    /// has passed. Use it to stop work early and return a partial result.
    pub fn remaining_time(&self) -> Duration {
        self.deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    #[test]
    fn remaining_time_counts_down_to_the_deadline() {
        let ctx = Context {
            deadline_ms: now_ms() + 5_000,
            ..Default::default()
        };
        let left = ctx.remaining_time();
        assert!(left > Duration::from_millis(4_000), "{left:?}");
        assert!(left <= Duration::from_millis(5_000), "{left:?}");
    }

    #[test]
    fn remaining_time_is_zero_after_the_deadline() {
        let ctx = Context {
            deadline_ms: now_ms() - 1_000,
            ..Default::default()
        };
        assert_eq!(ctx.remaining_time(), Duration::ZERO);
    }
}
