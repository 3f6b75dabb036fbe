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

mod context;
mod dispatch;
mod error;
#[cfg(not(target_family = "wasm"))]
mod log_relay;
#[cfg(not(target_family = "wasm"))]
#[doc(hidden)]
pub mod native;
mod panic;
// Compiled for wasm32, and also under clippy on the host so the ABI glue is linted.
#[cfg(any(target_arch = "wasm32", clippy))]
#[doc(hidden)]
pub mod wasm;

pub use context::Context;
pub use error::Error;
pub use serde_json as json;
/// Turns `fn name(event: E, ctx: Context) -> Result<R, Error>` into a Lambda handler.
///
/// `E` must implement `serde::de::DeserializeOwned` and `R` must implement `serde::Serialize`;
/// the error may be any type that converts into [`Error`]. Apply it to exactly one function
/// per crate: on `wasm32` it generates the module's exports.
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

/// Items used by the code that [`handler`] generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::{assert_handler, dispatch};
    #[cfg(not(target_family = "wasm"))]
    pub use crate::native;
    #[cfg(any(target_arch = "wasm32", clippy))]
    pub use crate::wasm;
}
