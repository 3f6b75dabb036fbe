//! The native build: the same handler as a `provided.al2023` `bootstrap`, driven by AWS's
//! `lambda_runtime` crate. Error bodies, panic reports and log lines match the wasm build's:
//! the event is decoded by the same [`dispatch`], a panic is caught and reported as
//! `Runtime.Panic`, and stdout/stderr are relayed as Lambda log records with the request id.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;

use crate::{Context, Error, dispatch::dispatch, log_relay::LogRelay, panic};

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
            let text = panic::last_panic().unwrap_or_else(|| "panicked".to_owned());
            return Err(Error::new("Runtime.Panic", text));
        }
    };
    // serde_json writes UTF-8 JSON, so both conversions hold.
    let text = String::from_utf8(body).expect("serde_json output is UTF-8");
    Ok(RawValue::from_string(text).expect("serde_json output is JSON"))
}

/// The `main` of a native handler: serves invocations from the Lambda Runtime API until
/// the environment is shut down.
pub fn run<E, R, X, F>(handler: F)
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
    F: Fn(E, Context) -> Result<R, X> + Copy + Send + Sync + 'static,
{
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "wasi-lambda: AWS_LAMBDA_RUNTIME_API is not set. This bootstrap runs inside AWS Lambda \
             (provided.al2023) or `wasi-lambda serve`; to try it locally use `wasi-lambda invoke --target native`."
        );
        std::process::exit(1);
    }
    panic::install_hook();
    let relay = Arc::new(LogRelay::install());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("wasi-lambda: cannot start the tokio runtime: {err}");
            std::process::exit(1);
        }
    };
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
