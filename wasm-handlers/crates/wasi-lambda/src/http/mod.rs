//! Outbound HTTP, the same source on both targets: an async [`Client`] on the [`http`] crate's
//! types.
//!
//! On wasm32 the host performs the request under the function's egress grant
//! (`WASI_LAMBDA_ALLOW_HOSTS`, `invoke --allow-host`) through the `wasi-lambda:handler/http`
//! import: a destination not granted is refused before a byte leaves, with the error code
//! `EgressDenied`, and every call is bounded by the invocation's deadline. Concurrent requests
//! (`join!`) overlap: the SDK's executor waits for all of them, and its timers, in one host
//! call. Natively the same API runs on `reqwest` (rustls): there is no grant, the native
//! `bootstrap` is the comparison target, not a sandbox.
//!
//! ```no_run
//! use wasi_lambda::http::Client;
//! use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};
//!
//! #[wasi_lambda::main]
//! async fn main() -> Result<(), Error> {
//!     let client = Client::new(); // once per instance; clones share it
//!     let client = &client;
//!     wasi_lambda::run(service_fn(move |_event: LambdaEvent<serde_json::Value>| async move {
//!         let response = client.get("https://api.example.com/status").await?;
//!         Ok::<_, Error>(response.status().as_u16())
//!     }))
//!     .await
//! }
//! ```
//!
//! A failed call is an [`HttpError`]; returned with `?` from a handler it is reported with its
//! [`code`](HttpError::code) as the `errorType` (`EgressDenied`, `Timeout`, …).

use std::{fmt, time::Duration};

pub use http::{Method, Request, Response, StatusCode};

#[cfg(not(target_family = "wasm"))]
mod native;
#[cfg(not(target_family = "wasm"))]
use native as imp;
// Also compiled on the host under clippy, so the ABI glue is linted.
#[cfg(any(target_family = "wasm", clippy))]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod wasm;
#[cfg(target_family = "wasm")]
use wasm as imp;
#[cfg(target_family = "wasm")]
pub(crate) use wasm::wait;

/// An HTTP client. Build it once (in `main`) and clone it freely: clones share connections.
///
/// ```no_run
/// # async fn demo() -> Result<(), wasi_lambda::http::HttpError> {
/// use std::time::Duration;
/// let client = wasi_lambda::http::Client::new().timeout(Duration::from_secs(2));
/// let created = client.post("https://api.example.com/items", br#"{"id":1}"#.to_vec()).await?;
/// println!("{}", created.status());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Client {
    timeout: Option<Duration>,
    inner: imp::Inner,
}

impl Client {
    /// A client with no timeout of its own (the invocation's deadline still bounds each call).
    pub fn new() -> Self {
        Self::default()
    }

    /// Bounds every request of this client by `timeout` (the code is then `Timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends `request` and waits for the whole response. Redirects are returned, not followed;
    /// the body is the bytes as received.
    pub async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, HttpError> {
        imp::send(&self.inner, request, self.timeout).await
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<Response<Vec<u8>>, HttpError> {
        self.send(build(Method::GET, url, Vec::new())?).await
    }

    /// `POST url` with `body`.
    pub async fn post(
        &self,
        url: &str,
        body: impl Into<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, HttpError> {
        self.send(build(Method::POST, url, body.into())?).await
    }
}

fn build(method: Method, url: &str, body: Vec<u8>) -> Result<Request<Vec<u8>>, HttpError> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .map_err(|err| HttpError::new("InvalidRequest", format!("{url}: {err}")))
}

/// Why a request produced no response. Returned with `?` from a handler, Lambda reports its
/// [`code`](Self::code) as the `errorType` and its [`message`](Self::message) as the
/// `errorMessage`.
///
/// ```
/// # fn demo(err: wasi_lambda::http::HttpError) {
/// if err.code() == "EgressDenied" {
///     eprintln!("grant it: {}", err.message());
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    code: String,
    message: String,
}

impl HttpError {
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The stable code: `EgressDenied` (the destination is not granted; nothing was sent),
    /// `InvalidRequest`, `DnsError`, `ConnectError`, `TlsError`, `Timeout`, `ConnectionReset`,
    /// `ResponseTooLarge`, `ProtocolError`, `TooManyRequests` or `Unsupported`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// What happened, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn into_parts(self) -> (String, String) {
        (self.code, self.message)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for HttpError {}
