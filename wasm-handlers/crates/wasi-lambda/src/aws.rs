//! The AWS SDK for Rust, configured in one line on both targets.
//!
//! [`config`] returns the [`SdkConfig`] every `aws-sdk-*` client is built from:
//!
//! ```no_run
//! use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};
//!
//! #[wasi_lambda::main]
//! async fn main() -> Result<(), Error> {
//!     let config = wasi_lambda::aws::config().await; // once per instance
//!     // let dynamodb = aws_sdk_dynamodb::Client::new(&config);
//!     # let _ = &config;
//!     wasi_lambda::run(service_fn(|_event: LambdaEvent<serde_json::Value>| async {
//!         Ok::<_, Error>("ok")
//!     }))
//!     .await
//! }
//! ```
//!
//! **On wasm32** the SDK never holds the function's credentials. It signs with placeholder
//! credentials (so its requests carry the credential scope — service and region — the host
//! reads), and sends through the host's HTTP import. The host checks each request against the
//! function's grant (`WASI_LAMBDA_AWS`), drops every signing header the guest wrote, and signs
//! again with the function's own credentials; a request outside the grant is refused before it
//! is signed (`EgressDenied`). The region is the function's (`AWS_REGION`), the endpoint the
//! service's own or `AWS_ENDPOINT_URL[_<SERVICE>]`, as the AWS SDKs read them. Retries sleep on
//! the SDK's executor, so a backoff never blocks other futures.
//!
//! **Natively** it is `aws_config::load_defaults(BehaviorVersion::latest())`: the default
//! credential chain (the role's keys in Lambda) and the SDK's default HTTPS client.

pub use aws_types::SdkConfig;

/// The SDK configuration for this function: region, endpoint, HTTP client, sleep and time.
/// Build it once (in `main`) and make every client from it.
///
/// ```no_run
/// # async fn demo() {
/// let config = wasi_lambda::aws::config().await;
/// assert!(config.region().is_some());
/// # }
/// ```
pub async fn config() -> SdkConfig {
    imp::config().await
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use aws_config::BehaviorVersion;
    use aws_types::SdkConfig;

    pub(super) async fn config() -> SdkConfig {
        aws_config::load_defaults(BehaviorVersion::latest()).await
    }
}

#[cfg(target_family = "wasm")]
mod imp {
    use std::{future::Future, pin::Pin, time::Duration};

    use aws_config::BehaviorVersion;
    use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
    use aws_smithy_async::{
        rt::sleep::{AsyncSleep, SharedAsyncSleep, Sleep},
        time::{SharedTimeSource, SystemTimeSource},
    };
    use aws_smithy_runtime_api::{
        client::{
            http::{
                HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings,
                SharedHttpClient, SharedHttpConnector,
            },
            orchestrator::{HttpRequest, HttpResponse},
            result::ConnectorError,
            runtime_components::RuntimeComponents,
        },
        http::Response as SdkResponse,
    };
    use aws_smithy_types::body::SdkBody;
    use aws_types::{SdkConfig, region::Region};

    use crate::http::{Client, HttpError};

    /// What the guest signs with. Not a secret and never accepted by AWS: the host replaces
    /// the signature. The key id says so to anyone reading a captured request.
    const PLACEHOLDER_KEY_ID: &str = "WASILAMBDAHOSTSIGNS";
    const PLACEHOLDER_SECRET: &str = "the-wasi-lambda-host-signs-with-the-function-role";

    pub(super) async fn config() -> SdkConfig {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".to_owned());
        let credentials = Credentials::new(
            PLACEHOLDER_KEY_ID,
            PLACEHOLDER_SECRET,
            None,
            None,
            "wasi-lambda-host",
        );
        // aws-config reads AWS_ENDPOINT_URL[_<SERVICE>] itself (the host grants the guest those
        // variables); profile files do not exist in the guest, so nothing else is found.
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(SharedHttpClient::new(HostHttpClient))
            .sleep_impl(SharedAsyncSleep::new(ExecutorSleep))
            .time_source(SharedTimeSource::new(SystemTimeSource::new()))
            .load()
            .await
    }

    /// The SDK's futures must be `Send`; the guest's are not required to be, and need not be:
    /// a wasm32-wasip1 module without the `atomics` feature has exactly one thread.
    struct OneThread<F>(F);

    // SAFETY: wasm32-wasip1 (no `atomics`) cannot start a second thread, so the value is never
    // sent or shared across threads; the `cfg` below keeps this from compiling where it could.
    #[cfg(not(target_feature = "atomics"))]
    unsafe impl<F> Send for OneThread<F> {}

    impl<F: Future> Future for OneThread<F> {
        type Output = F::Output;
        fn poll(
            self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<F::Output> {
            // SAFETY: structural pinning of the only field.
            unsafe { self.map_unchecked_mut(|this| &mut this.0) }.poll(cx)
        }
    }

    #[derive(Debug)]
    struct ExecutorSleep;

    impl AsyncSleep for ExecutorSleep {
        fn sleep(&self, duration: Duration) -> Sleep {
            Sleep::new(OneThread(crate::time::sleep(duration)))
        }
    }

    #[derive(Debug)]
    struct HostHttpClient;

    impl HttpClient for HostHttpClient {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            let mut client = Client::new();
            if let Some(timeout) = settings.read_timeout() {
                client = client.timeout(timeout);
            }
            SharedHttpConnector::new(HostConnector(client))
        }
    }

    #[derive(Debug)]
    struct HostConnector(Client);

    impl HttpConnector for HostConnector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let client = self.0.clone();
            HttpConnectorFuture::new(OneThread(async move { send(&client, request).await }))
        }
    }

    async fn send(client: &Client, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let request = request
            .try_into_http1x()
            .map_err(|err| ConnectorError::user(Box::new(err)))?;
        let (parts, body) = request.into_parts();
        // Every request the SDK makes for the services in this crate's examples has its body in
        // memory; a streaming body would need the whole stream read here first.
        let Some(bytes) = body.bytes() else {
            return Err(ConnectorError::user(
                "a streaming request body is not supported through the wasi-lambda host; \
                 give the SDK the bytes (ByteStream::from(Vec<u8>))"
                    .into(),
            ));
        };
        let request = http::Request::from_parts(parts, bytes.to_vec());
        let response = client.send(request).await.map_err(connector_error)?;
        let (parts, body) = response.into_parts();
        let response = http::Response::from_parts(parts, SdkBody::from(body));
        SdkResponse::try_from(response).map_err(|err| ConnectorError::other(Box::new(err), None))
    }

    /// Retryable kinds where a retry can help (the network), `user` where it cannot (a grant
    /// or a malformed request: retrying would only repeat the refusal).
    fn connector_error(err: HttpError) -> ConnectorError {
        match err.code() {
            "Timeout" => ConnectorError::timeout(Box::new(err)),
            "DnsError" | "ConnectError" | "ConnectionReset" | "TlsError" => {
                ConnectorError::io(Box::new(err))
            }
            "ProtocolError" => ConnectorError::other(Box::new(err), None),
            _ => ConnectorError::user(Box::new(err)),
        }
    }
}
