//! The native client: the same API on `reqwest` (rustls, webpki roots). No egress grant
//! applies here: the native `bootstrap` is the comparison target, not a sandbox.

use std::time::Duration;

use http::{Request, Response};

use super::HttpError;

/// reqwest's client: a handle on a shared connection pool, cheap to clone.
#[derive(Clone, Debug, Default)]
pub(super) struct Inner(reqwest::Client);

pub(super) async fn send(
    inner: &Inner,
    request: Request<Vec<u8>>,
    timeout: Option<Duration>,
) -> Result<Response<Vec<u8>>, HttpError> {
    let mut request = reqwest::Request::try_from(request)
        .map_err(|err| HttpError::new("InvalidRequest", err.to_string()))?;
    *request.timeout_mut() = timeout;
    let response = inner.0.execute(request).await.map_err(classify)?;
    let mut builder = Response::builder().status(response.status());
    if let Some(headers) = builder.headers_mut() {
        headers.extend(response.headers().clone());
    }
    let body = response.bytes().await.map_err(classify)?;
    builder
        .body(body.to_vec())
        .map_err(|err| HttpError::new("ProtocolError", err.to_string()))
}

/// The host's codes for reqwest's errors, as far as reqwest tells them apart.
fn classify(err: reqwest::Error) -> HttpError {
    let code = if err.is_timeout() {
        "Timeout"
    } else if closed_early(&err) {
        "ConnectionReset"
    } else if err.is_connect() {
        "ConnectError"
    } else if err.is_builder() || err.is_request() && err.url().is_none() {
        "InvalidRequest"
    } else if err.is_body() || err.is_decode() {
        "ConnectionReset"
    } else {
        "ProtocolError"
    };
    HttpError::new(code, error_chain(&err))
}

/// The peer closed or reset the connection before the response was complete, as the host's
/// engine calls it: hyper's incomplete message, or a reset, abort or EOF on the socket.
fn closed_early(err: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() {
                return true;
            }
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            ) {
                return true;
            }
        }
        source = cause.source();
    }
    false
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
