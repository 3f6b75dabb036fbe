//! Serving on wasm32, both sides of it: [`run`](crate::run) inside `main` serves the
//! invocations the `handle` export hands over, one at a time, so whatever `main` built stays
//! alive and borrowable; [`init`] and [`invoke`] are what the exports do with the executor.

use std::{cell::RefCell, future::poll_fn, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};
use tower_service::Service;

use crate::{
    Error, IntoDiagnostic,
    dispatch::{MARSHAL_ERROR, deserialize},
    executor::{
        self, Drive, MainFuture,
        serving::{self, Invocation},
    },
    lambda_types::{Config, Context, LambdaEvent},
    panic,
};

/// Where `main` is: [`init`] starts it, later calls (and [`invoke`]) read this.
enum InitState {
    NotStarted,
    Serving,
    Failed(Error),
}

thread_local! {
    static INIT: RefCell<InitState> = const { RefCell::new(InitState::NotStarted) };
}

/// A task waiting for something no armed timer or host I/O will bring.
fn stalled(what: &str) -> Error {
    Error::new(
        "Runtime.Stalled",
        format!(
            "{what} is waiting for something that can never happen: no timer is armed and no host \
             I/O is pending (a future nobody wakes, such as a channel whose sender is kept but \
             never used, or an executor-specific future from another runtime)"
        ),
    )
}

/// Runs `main` until it waits in `run` for the first invocation, once; later calls report
/// the same outcome.
pub(crate) fn init(main: fn() -> MainFuture) -> Result<(), Error> {
    let state = INIT.with(|init| match &*init.borrow() {
        InitState::NotStarted => None,
        InitState::Serving => Some(Ok(())),
        InitState::Failed(err) => Some(Err(err.clone())),
    });
    if let Some(outcome) = state {
        return outcome;
    }
    panic::install_hook();
    executor::spawn_main(main());
    let outcome = match executor::drive(|| serving::is_waiting().then_some(())) {
        Drive::Done(()) => Ok(()),
        Drive::MainReturned(Ok(())) => Err(Error::new(
            "Runtime.InitError",
            "main returned without serving: end it with `wasi_lambda::run(service_fn(handler)).await`",
        )),
        Drive::MainReturned(Err(err)) => Err(err),
        Drive::Stalled => Err(stalled("main")),
    };
    INIT.with(|init| {
        *init.borrow_mut() = match &outcome {
            Ok(()) => InitState::Serving,
            Err(err) => InitState::Failed(err.clone()),
        }
    });
    outcome
}

/// Runs one invocation: initialises first if the host did not call `init`, hands the event
/// to `run` and drives the executor until it answers.
pub(crate) fn invoke(
    main: fn() -> MainFuture,
    event: Vec<u8>,
    context: crate::Context,
) -> Result<Vec<u8>, Error> {
    init(main)?;
    serving::offer(Invocation {
        event,
        context: service_context(context),
    });
    match executor::drive(serving::take_result) {
        Drive::Done(result) => result,
        Drive::MainReturned(result) => {
            let err = result.err().unwrap_or_else(|| {
                Error::new(
                    "Runtime.ExitError",
                    "main returned while serving an invocation",
                )
            });
            INIT.with(|init| *init.borrow_mut() = InitState::Failed(err.clone()));
            Err(err)
        }
        Drive::Stalled => {
            // Drop the handler's future (and disarm its timers) so the next invocation starts
            // clean.
            serving::abort();
            let _ = executor::drive(|| serving::is_waiting().then_some(()));
            Err(stalled("the handler"))
        }
    }
}

/// The WIT context as lambda_runtime's.
fn service_context(ctx: crate::Context) -> Context {
    // Like lambda_runtime, an empty header is no value; unlike it, JSON that does not parse is
    // no value too, rather than a failed invocation.
    fn parse<T: DeserializeOwned>(json: Option<String>) -> Option<T> {
        json.filter(|s| !s.is_empty())
            .and_then(|s| serde_json::from_str(&s).ok())
    }
    Context {
        request_id: ctx.request_id,
        deadline: ctx.deadline_ms,
        invoked_function_arn: ctx.invoked_function_arn,
        xray_trace_id: ctx.xray_trace_id,
        client_context: parse(ctx.client_context),
        identity: parse(ctx.identity),
        tenant_id: ctx.tenant_id,
        env_config: Arc::new(Config {
            function_name: ctx.function_name,
            memory: i32::try_from(ctx.memory_limit_mb).unwrap_or(i32::MAX),
            version: ctx.function_version,
            log_stream: ctx.log_stream_name,
            log_group: ctx.log_group_name,
        }),
    }
}

/// Never returns: `main` stays suspended here between invocations.
pub(crate) async fn run<S, A, R, E>(mut service: S) -> Result<(), crate::runtime::Error>
where
    S: Service<LambdaEvent<A>, Response = R, Error = E>,
    A: DeserializeOwned,
    R: Serialize,
    E: IntoDiagnostic,
{
    loop {
        let Invocation { event, context } = serving::next().await;
        // `None`: the export gave up on a stalled invocation and reported it already.
        if let Some(result) = serving::abortable(call(&mut service, &event, context)).await {
            serving::complete(result);
        }
    }
}

/// One invocation inside `run`: decode, call the service, encode.
async fn call<S, A, R, E>(service: &mut S, event: &[u8], context: Context) -> Result<Vec<u8>, Error>
where
    S: Service<LambdaEvent<A>, Response = R, Error = E>,
    A: DeserializeOwned,
    R: Serialize,
    E: IntoDiagnostic,
{
    let payload: A = deserialize(event)?;
    poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(IntoDiagnostic::into_diagnostic)?;
    let response = service
        .call(LambdaEvent::new(payload, context))
        .await
        .map_err(IntoDiagnostic::into_diagnostic)?;
    serde_json::to_vec(&response).map_err(|e| {
        Error::new(
            MARSHAL_ERROR,
            format!("could not serialise the response to JSON: {e}"),
        )
    })
}

/// The executor, driven natively exactly as the wasm exports drive it (each test thread has
/// its own executor).
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    use super::*;
    use crate::{lambda_types::service_fn, main_result::MainResult, time::wasm::sleep};

    type BoxError = crate::runtime::Error;

    fn main_future<F>(main: F) -> MainFuture
    where
        F: Future + 'static,
        F::Output: MainResult,
    {
        Box::pin(async move { main.await.into_init_result() })
    }

    async fn handler(event: LambdaEvent<Value>) -> Result<Value, BoxError> {
        let start = Instant::now();
        match event.payload["action"].as_str() {
            Some("overlap") => {
                let ms = Duration::from_millis(event.payload["ms"].as_u64().unwrap_or(0));
                futures::join!(sleep(ms), sleep(ms));
            }
            Some("stall") => std::future::pending::<()>().await,
            Some("stall-with-timer") => {
                // The timer fires, then nothing else can: still a stall, found after 20 ms.
                futures::join!(
                    sleep(Duration::from_millis(20)),
                    std::future::pending::<()>()
                );
            }
            _ => return Err("unknown action".into()),
        }
        Ok(json!({
            "elapsedMs": start.elapsed().as_millis() as u64,
            "requestId": event.context.request_id,
        }))
    }

    fn serving() -> MainFuture {
        main_future(async { run(service_fn(handler)).await })
    }

    fn call_with(main: fn() -> MainFuture, event: Value) -> Result<Value, Error> {
        let ctx = crate::Context {
            request_id: "req-1".into(),
            ..Default::default()
        };
        invoke(main, event.to_string().into_bytes(), ctx)
            .map(|body| serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn concurrent_sleeps_overlap_and_the_executor_parks_instead_of_spinning() {
        let started = Instant::now();
        let body = call_with(serving, json!({ "action": "overlap", "ms": 200 })).unwrap();
        let elapsed = body["elapsedMs"].as_u64().unwrap();
        assert!(
            (200..350).contains(&elapsed),
            "two 200 ms sleeps took {elapsed} ms"
        );
        assert!(started.elapsed() < Duration::from_millis(350));
        assert_eq!(body["requestId"], "req-1");
    }

    #[test]
    fn a_handler_nothing_can_wake_is_stalled_and_the_next_invocation_runs() {
        let err = call_with(serving, json!({ "action": "stall" })).unwrap_err();
        assert_eq!(err.error_type(), "Runtime.Stalled");
        assert!(err.message().starts_with("the handler is waiting"), "{err}");
        let err = call_with(serving, json!({ "action": "stall-with-timer" })).unwrap_err();
        assert_eq!(err.error_type(), "Runtime.Stalled");
        let body = call_with(serving, json!({ "action": "overlap", "ms": 1 })).unwrap();
        assert!(body["elapsedMs"].as_u64().unwrap() < 100);
    }

    #[test]
    fn handler_errors_are_named_as_lambda_runtime_names_them() {
        let err = call_with(serving, json!({ "action": "nope" })).unwrap_err();
        assert_eq!(
            err,
            Error::new(
                "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>",
                "unknown action"
            )
        );
    }

    #[test]
    fn a_payload_of_the_wrong_type_is_reported_as_lambda_runtime_reports_it() {
        fn typed() -> MainFuture {
            main_future(async {
                run(service_fn(|_: LambdaEvent<u32>| async {
                    Ok::<_, BoxError>(1)
                }))
                .await
            })
        }
        let err = invoke(typed, b"\"x\"".to_vec(), crate::Context::default()).unwrap_err();
        let expected = deserialize::<u32>(b"\"x\"").unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err.error_type(), crate::dispatch::DESERIALIZE_ERROR);
    }

    #[test]
    fn main_failing_or_returning_is_an_init_error_reported_on_every_call() {
        fn failing() -> MainFuture {
            main_future(async { Err::<(), BoxError>("no table".into()) })
        }
        let err = init(failing).unwrap_err();
        assert_eq!(err.message(), "no table");
        assert_eq!(call_with(failing, json!({})).unwrap_err(), err);

        INIT.with(|init| *init.borrow_mut() = InitState::NotStarted);
        let err = init(|| main_future(async {})).unwrap_err();
        assert_eq!(err.error_type(), "Runtime.InitError");

        INIT.with(|init| *init.borrow_mut() = InitState::NotStarted);
        let err = init(|| main_future(std::future::pending::<()>())).unwrap_err();
        assert_eq!(err.error_type(), "Runtime.Stalled");
        assert!(err.message().starts_with("main is waiting"), "{err}");
    }

    #[test]
    fn main_may_await_timers_before_serving() {
        fn slow() -> MainFuture {
            main_future(async {
                sleep(Duration::from_millis(30)).await;
                run(service_fn(handler)).await
            })
        }
        let started = Instant::now();
        init(slow).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(call_with(slow, json!({ "action": "overlap", "ms": 1 })).is_ok());
    }
}
