//! Write an AWS Lambda handler once in Rust and run it as a WebAssembly module.
//!
//! Annotate a function with [`handler`]; built for `wasm32-wasip1` it becomes the `handle`
//! export of the `wasi-lambda:handler/lambda-handler` WIT world (see `wasm-handlers/wit/`),
//! which the wasi-lambda host calls with the raw JSON event and the Lambda [`Context`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use wasi_lambda::{Context, Error};
//!
//! #[derive(Deserialize)]
//! struct Request { name: String }
//!
//! #[derive(Serialize)]
//! struct Response { message: String }
//!
//! #[wasi_lambda::handler]
//! fn greet(event: Request, ctx: Context) -> Result<Response, Error> {
//!     println!("greeting {}", event.name); // becomes an INFO log line with the request id
//!     Ok(Response { message: format!("Hello, {}! ({})", event.name, ctx.request_id) })
//! }
//! ```
//!
//! An `Err`, an event that does not deserialise into the event type, and a panic each become
//! a Lambda error body `{"errorType": …, "errorMessage": …}`.
//!
//! # The shape of `lambda_runtime`
//! A function written for AWS's `lambda_runtime` crate ports with a `use` change: an
//! `async fn handler(event: LambdaEvent<E>) -> Result<R, Error>`, and a [`main`] that builds
//! clients once and ends with [`run`]`(`[`service_fn`]`(handler)).await`. Natively that *is*
//! lambda_runtime; on wasm32 the SDK's executor drives it, and [`time::sleep`] waits without
//! spinning. See [`runtime`] and `docs/porting.md`.
//!
//! # Outbound HTTP
//! With the `http` feature, `wasi_lambda::http::Client` sends `http::Request`s: in wasm the
//! host performs them under the function's egress grant (`WASI_LAMBDA_ALLOW_HOSTS`), bounded by
//! the invocation's deadline; natively it is reqwest. See `wasm-handlers/examples/fetch`.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};
//!
//! #[derive(Deserialize)]
//! struct Request { name: String }
//!
//! #[derive(Serialize)]
//! struct Response { message: String }
//!
//! struct Config { greeting: String }
//!
//! async fn handler(config: &Config, event: LambdaEvent<Request>) -> Result<Response, Error> {
//!     wasi_lambda::time::sleep(std::time::Duration::from_millis(1)).await;
//!     Ok(Response { message: format!("{}, {}!", config.greeting, event.payload.name) })
//! }
//!
//! #[wasi_lambda::main]
//! async fn main() -> Result<(), Error> {
//!     let config = Config { greeting: "Hello".into() }; // once per instance
//!     let config = &config;
//!     wasi_lambda::run(service_fn(move |event| handler(config, event))).await
//! }
//! ```

#[cfg(feature = "aws")]
pub mod aws;
mod context;
mod dispatch;
mod error;
#[cfg(feature = "http")]
pub mod http;
// The executor and lambda_runtime's types for wasm32; also compiled on the host under clippy,
// so the wasm-only code is linted, and for the unit tests, which drive the executor natively.
#[cfg(any(target_family = "wasm", clippy, test))]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod executor;
#[cfg(any(target_family = "wasm", clippy, test))]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod lambda_types;
#[cfg(not(target_family = "wasm"))]
mod log_relay;
mod main_result;
#[cfg(not(target_family = "wasm"))]
#[doc(hidden)]
pub mod native;
mod panic;
pub mod runtime;
#[cfg(any(target_family = "wasm", clippy, test))]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod serve;
pub mod time;
// Compiled for wasm32, and also under clippy on the host so the ABI glue is linted.
#[cfg(any(target_arch = "wasm32", clippy))]
#[doc(hidden)]
pub mod wasm;

pub use context::Context;
pub use error::{Error, IntoDiagnostic};
pub use runtime::{LambdaEvent, run, service_fn};
pub use serde_json as json;
/// Turns `fn name(event: E, ctx: Context) -> Result<R, Error>` into a Lambda handler.
///
/// `E` must implement `serde::de::DeserializeOwned` and `R` must implement `serde::Serialize`;
/// the error may be any type that converts into [`Error`]. Apply it to exactly one function
/// per crate: on `wasm32` it generates the module's exports.
///
/// It also takes lambda_runtime's shape, `async fn name(event: LambdaEvent<E>) -> Result<R,
/// Err>` with any `Err` [`IntoDiagnostic`] accepts, when nothing needs building at init;
/// otherwise write a [`main`]:
///
/// ```
/// use wasi_lambda::runtime::{Error, LambdaEvent};
///
/// #[wasi_lambda::handler]
/// async fn request_id(event: LambdaEvent<serde_json::Value>) -> Result<String, Error> {
///     Ok(event.context.request_id)
/// }
/// ```
///
/// ```
/// #[wasi_lambda::handler]
/// fn echo(event: serde_json::Value, _ctx: wasi_lambda::Context) -> Result<serde_json::Value, wasi_lambda::Error> {
///     Ok(event)
/// }
/// ```
///
/// A function with another shape is a compile error that says what to change:
///
/// ```compile_fail
/// #[wasi_lambda::handler]
/// fn missing_context(event: serde_json::Value) -> Result<(), wasi_lambda::Error> { Ok(()) }
/// ```
pub use wasi_lambda_macros::handler;

/// Makes `async fn main()` the function's init, as `#[tokio::main]` does for lambda_runtime:
/// it runs once per instance, builds what every invocation shares (clients, configuration),
/// and ends with [`run`]`(service).await`, which serves the invocations.
///
/// `main` returns `()` or `Result<(), E>`; an `Err` (or returning before [`run`]) is an init
/// failure, reported with the `errorType` [`IntoDiagnostic`] gives it. Natively `main` runs on
/// a current-thread tokio runtime and `run` is `lambda_runtime::run`; on wasm32 the module
/// exports `init`, which runs `main` up to `run`, and each `handle` call resumes `run` with
/// one invocation on the SDK's executor. Apply it to one function per crate, instead of
/// [`handler`].
///
/// ```no_run
/// use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};
///
/// #[wasi_lambda::main]
/// async fn main() -> Result<(), Error> {
///     let table = std::env::var("TABLE").unwrap_or_else(|_| "orders".into());
///     let table = &table;
///     wasi_lambda::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
///         Ok::<_, Error>(format!("{table}: {}", event.payload))
///     }))
///     .await
/// }
/// ```
///
/// `main` must be `async`:
///
/// ```compile_fail
/// #[wasi_lambda::main]
/// fn main() {}
/// ```
pub use wasi_lambda_macros::main;

/// Items used by the code that [`handler`] generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::{assert_handler, deserialize as decode_payload, dispatch};
    pub use crate::main_result::MainResult;
    #[cfg(not(target_family = "wasm"))]
    pub use crate::native;
    #[cfg(any(target_arch = "wasm32", clippy))]
    pub use crate::wasm;
}
