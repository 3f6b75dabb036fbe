//! The native build: the same handler as a `provided.al2023` `bootstrap`, driven by AWS's
//! `lambda_runtime` crate. Error bodies, panic reports and log lines match the wasm build's:
//! the event of a `#[handler] fn` is decoded by the same [`dispatch`] (an `async` service's by
//! lambda_runtime itself, which the wasm build words alike), a panic is caught and reported as
//! `Runtime.Panic`, and stdout/stderr are relayed as Lambda log records with the request id.

use std::{
    future::Future,
    marker::PhantomData,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{self, Poll},
};

use lambda_runtime::{Diagnostic, LambdaEvent, Service, service_fn};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;

use crate::{
    Context, Error, IntoDiagnostic, dispatch::dispatch, log_relay::LogRelay,
    main_result::MainResult, panic,
};

/// The relay `main` installed, for [`run`]'s services to bracket invocations with.
static RELAY: OnceLock<Arc<LogRelay>> = OnceLock::new();

fn context(ctx: &lambda_runtime::Context) -> Context {
    let config = &ctx.env_config;
    Context {
        request_id: ctx.request_id.clone(),
        function_name: config.function_name.clone(),
        function_version: config.version.clone(),
        invoked_function_arn: ctx.invoked_function_arn.clone(),
        memory_limit_mb: u32::try_from(config.memory).unwrap_or(0),
        deadline_ms: ctx.deadline,
        log_group_name: config.log_group.clone(),
        log_stream_name: config.log_stream.clone(),
        xray_trace_id: ctx.xray_trace_id.clone(),
        client_context: ctx
            .client_context
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok()),
        identity: ctx
            .identity
            .as_ref()
            .and_then(|i| serde_json::to_string(i).ok()),
        tenant_id: ctx.tenant_id.clone(),
    }
}

fn diagnostic(error: Error) -> Diagnostic {
    let (error_type, error_message) = error.into_parts();
    Diagnostic {
        error_type,
        error_message,
    }
}

/// Runs one invocation with the same decoding, error mapping and panic report as the wasm
/// export.
fn invoke<E, R, X, F>(handler: F, event: &RawValue, ctx: Context) -> Result<Box<RawValue>, Error>
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
    F: FnOnce(E, Context) -> Result<R, X>,
{
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        dispatch(event.get().as_bytes(), ctx, handler)
    }));
    let body = match outcome {
        Ok(result) => result?,
        Err(_) => {
            return Err(panicked());
        }
    };
    // serde_json writes UTF-8 JSON, so both conversions hold.
    let text = String::from_utf8(body).expect("serde_json output is UTF-8");
    Ok(RawValue::from_string(text).expect("serde_json output is JSON"))
}

/// What every native `main` does first: refuse to run outside Lambda, install the panic
/// hook and the log relay, and start a current-thread tokio runtime.
fn start() -> (Arc<LogRelay>, tokio::runtime::Runtime) {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "wasi-lambda: AWS_LAMBDA_RUNTIME_API is not set. This bootstrap runs inside AWS Lambda \
             (provided.al2023) or `wasi-lambda serve`; to try it locally use `wasi-lambda invoke --target native`."
        );
        std::process::exit(1);
    }
    panic::install_hook();
    let relay = Arc::clone(RELAY.get_or_init(|| Arc::new(LogRelay::install())));
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => (relay, runtime),
        Err(err) => {
            eprintln!("wasi-lambda: cannot start the tokio runtime: {err}");
            std::process::exit(1);
        }
    }
}

/// The `main` of a native `#[handler] fn`: serves invocations from the Lambda Runtime API until
/// the environment is shut down.
pub fn run_handler<E, R, X, F>(handler: F)
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
    F: Fn(E, Context) -> Result<R, X> + Copy + Send + Sync + 'static,
{
    let (relay, runtime) = start();
    let service_relay = Arc::clone(&relay);
    let service = service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let relay = Arc::clone(&service_relay);
        async move {
            let ctx = context(&event.context);
            relay.begin(&ctx.request_id);
            let result = invoke(handler, &event.payload, ctx);
            // Every line the handler wrote is logged before the response is posted.
            relay.end();
            result.map_err(diagnostic)
        }
    });
    // A failure outside an invocation (bad environment, lost Runtime API) still reaches the
    // log: the relay is drained before the process exits.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(lambda_runtime::run(service))
    }));
    if let Ok(Err(err)) = &outcome {
        eprintln!("wasi-lambda: the Lambda runtime client stopped: {err}");
    }
    relay.end();
    std::process::exit(1);
}

/// The `main` generated by `#[wasi_lambda::main]`: runs the user's `async fn main` on a
/// current-thread tokio runtime, as `#[tokio::main(flavor = "current_thread")]` would. It
/// ends the process: `main` returns only when init failed or the Runtime API was lost.
pub fn main<F>(user_main: F) -> !
where
    F: Future,
    F::Output: MainResult,
{
    let (relay, runtime) = start();
    let outcome = catch_unwind(AssertUnwindSafe(|| runtime.block_on(user_main)));
    match outcome.map(MainResult::into_init_result) {
        Ok(Ok(())) => {
            eprintln!("wasi-lambda: main returned; it ends with `wasi_lambda::run(...).await`")
        }
        Ok(Err(err)) => eprintln!("wasi-lambda: main failed: {err}"),
        // The panic hook has logged the message and location.
        Err(_) => {}
    }
    relay.end();
    std::process::exit(1);
}

/// [`crate::run`] natively: lambda_runtime runs `service`, wrapped so errors and panics are
/// reported as in wasm and log lines carry the request id.
pub(crate) async fn run<S, A, R, E>(service: S) -> Result<(), crate::runtime::Error>
where
    S: Service<LambdaEvent<A>, Response = R, Error = E>,
    A: DeserializeOwned,
    R: Serialize,
    E: IntoDiagnostic,
{
    panic::install_hook();
    lambda_runtime::run(Reported {
        inner: service,
        relay: RELAY.get().cloned(),
        _payload: PhantomData,
    })
    .await
}

/// A service whose errors are [`IntoDiagnostic`]'s and whose panics are `Runtime.Panic`.
struct Reported<S, A> {
    inner: S,
    relay: Option<Arc<LogRelay>>,
    _payload: PhantomData<fn(A)>,
}

impl<S, A, R, E> Service<LambdaEvent<A>> for Reported<S, A>
where
    S: Service<LambdaEvent<A>, Response = R, Error = E>,
    E: IntoDiagnostic,
{
    type Response = R;
    type Error = Diagnostic;
    type Future = ReportedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut task::Context<'_>) -> Poll<Result<(), Diagnostic>> {
        self.inner
            .poll_ready(cx)
            .map_err(|err| diagnostic(err.into_diagnostic()))
    }

    fn call(&mut self, event: LambdaEvent<A>) -> Self::Future {
        if let Some(relay) = &self.relay {
            relay.begin(&event.context.request_id);
        }
        let inner = catch_unwind(AssertUnwindSafe(|| self.inner.call(event)))
            .map(Box::pin)
            .map_err(|_| panicked());
        ReportedFuture {
            inner,
            relay: self.relay.clone(),
        }
    }
}

struct ReportedFuture<F> {
    /// `Err`: `call` itself panicked.
    inner: Result<Pin<Box<F>>, Error>,
    relay: Option<Arc<LogRelay>>,
}

impl<F, R, E> Future for ReportedFuture<F>
where
    F: Future<Output = Result<R, E>>,
    E: IntoDiagnostic,
{
    type Output = Result<R, Diagnostic>;

    fn poll(self: Pin<&mut Self>, cx: &mut task::Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = match &mut this.inner {
            Err(err) => Err(err.clone()),
            Ok(future) => match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(result)) => result.map_err(IntoDiagnostic::into_diagnostic),
                Err(_) => Err(panicked()),
            },
        };
        // Every line the handler wrote is logged before the response is posted.
        if let Some(relay) = &this.relay {
            relay.end();
        }
        Poll::Ready(result.map_err(diagnostic))
    }
}

fn panicked() -> Error {
    let text = panic::last_panic().unwrap_or_else(|| "panicked".to_owned());
    Error::new("Runtime.Panic", text)
}
