//! lambda_runtime's API, so a `lambda_runtime` function ports with a `use` change.
//!
//! Natively (the `bootstrap`) these items *are* lambda_runtime's and [`run`] calls
//! `lambda_runtime::run`; on wasm32 they are copies with the same fields and types, and
//! [`run`] serves the host's `handle` calls. The porting guide is `docs/porting.md`.
//!
//! ```no_run
//! use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};
//! use serde_json::Value;
//!
//! #[wasi_lambda::main]
//! async fn main() -> Result<(), Error> {
//!     let prefix = std::env::var("PREFIX").unwrap_or_default(); // built once, at init
//!     wasi_lambda::run(service_fn(|event: LambdaEvent<Value>| {
//!         let prefix = &prefix;
//!         async move { Ok::<_, Error>(format!("{prefix}{}", event.context.request_id)) }
//!     }))
//!     .await
//! }
//! ```

use serde::{Serialize, de::DeserializeOwned};

use crate::IntoDiagnostic;

#[cfg(target_family = "wasm")]
pub use crate::lambda_types::{Config, Context, LambdaEvent, service_fn};
#[cfg(not(target_family = "wasm"))]
pub use lambda_runtime::{Config, Context, LambdaEvent, service_fn};
/// `tower::Service`, which lambda_runtime re-exports: what [`run`] serves.
pub use tower_service::Service;

/// lambda_runtime's `Error`: any error, boxed.
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Serves invocations with `service` until the environment shuts down, as
/// `lambda_runtime::run` does; call it at the end of a [`#[wasi_lambda::main]`](crate::main).
///
/// The event is decoded into `A` (a failure is reported as lambda_runtime reports it, with the
/// `errorType` `&lambda_runtime::deserializer::DeserializeError`), the response `R` is encoded
/// as JSON, and an error `E` becomes `{"errorType", "errorMessage"}` as [`IntoDiagnostic`]
/// describes. On wasm32 it never returns; natively it returns when the Runtime API is lost.
///
/// Unlike lambda_runtime, `R` is a JSON response only (no `StreamResponse`), and a panic is
/// reported like the `#[handler]` form's (`Runtime.Panic`, `panicked at FILE:LINE:COL: …`).
pub async fn run<S, A, R, E>(service: S) -> Result<(), Error>
where
    S: Service<LambdaEvent<A>, Response = R, Error = E>,
    A: DeserializeOwned,
    R: Serialize,
    E: IntoDiagnostic,
{
    #[cfg(target_family = "wasm")]
    return crate::serve::run(service).await;
    #[cfg(not(target_family = "wasm"))]
    return crate::native::run(service).await;
}
