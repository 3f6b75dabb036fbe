//! A test guest in lambda_runtime's shape, so the host's `init` and the SDK's executor can be
//! tested against real wasm: `main` builds state once, handlers await timers concurrently,
//! and init failures and stalls happen on demand.
//!
//! `ASYNC_GUEST_INIT` (environment) picks how init ends: unset serves; `fail` returns an
//! error from `main`; `return` returns `Ok` without serving; `stall` awaits a future nothing
//! wakes; `sleep:MS` sleeps before serving.

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Value, json};
use wasi_lambda::{
    runtime::{Error, LambdaEvent, service_fn},
    time::sleep,
};

/// What the handler should do.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Sleep `ms` twice concurrently; answer the elapsed milliseconds.
    Overlap {
        /// Milliseconds per sleep.
        ms: u64,
    },
    /// Sleep `ms` twice, one after the other; answer the elapsed milliseconds.
    Sequence {
        /// Milliseconds per sleep.
        ms: u64,
    },
    /// Await a future nothing ever wakes.
    Stall,
    /// Fail with a `?`-converted standard error.
    ParseInt {
        /// Text that is not a number.
        text: String,
    },
    /// Fail with a chosen `errorType`.
    Fail {
        /// The `errorType`.
        error_type: String,
    },
    /// Answer the context and how many invocations this instance's `main` has served.
    Context,
    /// Panic with this message.
    Panic {
        /// The panic message.
        message: String,
    },
}

/// Built once by `main`, borrowed by every invocation.
struct State {
    started: Instant,
    served: Cell<u64>,
}

async fn handle(state: &State, event: LambdaEvent<Action>) -> Result<Value, Error> {
    state.served.set(state.served.get() + 1);
    let start = Instant::now();
    match event.payload {
        Action::Overlap { ms } => {
            futures::join!(
                sleep(Duration::from_millis(ms)),
                sleep(Duration::from_millis(ms))
            );
            Ok(json!({ "elapsedMs": start.elapsed().as_millis() as u64 }))
        }
        Action::Sequence { ms } => {
            sleep(Duration::from_millis(ms)).await;
            sleep(Duration::from_millis(ms)).await;
            Ok(json!({ "elapsedMs": start.elapsed().as_millis() as u64 }))
        }
        Action::Stall => {
            std::future::pending::<()>().await;
            Ok(Value::Null)
        }
        Action::ParseInt { text } => Ok(json!(text.parse::<i64>()?)),
        Action::Fail { error_type } => {
            Err(wasi_lambda::Error::new(error_type, "failed on purpose").into_boxed())
        }
        Action::Context => {
            let ctx = &event.context;
            Ok(json!({
                "requestId": ctx.request_id,
                "deadline": ctx.deadline,
                "invokedFunctionArn": ctx.invoked_function_arn,
                "xrayTraceId": ctx.xray_trace_id,
                "clientContext": ctx.client_context,
                "identity": ctx.identity,
                "tenantId": ctx.tenant_id,
                "envConfig": *ctx.env_config,
                "served": state.served.get(),
                "sinceInitMs": state.started.elapsed().as_millis() as u64,
            }))
        }
        Action::Panic { message } => panic!("{message}"),
    }
}

/// Init: builds the shared state, then serves.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    match std::env::var("ASYNC_GUEST_INIT").as_deref() {
        Ok("fail") => return Err("init failed on purpose".into()),
        Ok("return") => return Ok(()),
        Ok("stall") => std::future::pending::<()>().await,
        Ok(other) => {
            if let Some(ms) = other.strip_prefix("sleep:") {
                sleep(Duration::from_millis(ms.parse()?)).await;
            }
        }
        Err(_) => {}
    }
    let state = State {
        started: Instant::now(),
        served: Cell::new(0),
    };
    let state = &state;
    wasi_lambda::run(service_fn(move |event| handle(state, event))).await
}
