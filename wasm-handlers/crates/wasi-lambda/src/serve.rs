//! [`run`](crate::run) on wasm32: serves the invocations the `handle` export hands over, one
//! at a time, inside `main`, so whatever `main` built stays alive and borrowable.

use std::future::poll_fn;

use serde::{Serialize, de::DeserializeOwned};
use tower_service::Service;

use crate::{
    Error, IntoDiagnostic,
    dispatch::{MARSHAL_ERROR, deserialize},
    executor::serving::{self, Invocation},
    lambda_types::{Context, LambdaEvent},
};

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
        if let Some(result) = serving::abortable(invoke(&mut service, &event, context)).await {
            serving::complete(result);
        }
    }
}

async fn invoke<S, A, R, E>(
    service: &mut S,
    event: &[u8],
    context: Context,
) -> Result<Vec<u8>, Error>
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
