//! Outbound HTTP: fetches the URL the event names and answers its status and body.
//!
//! The host performs the call under the function's grant: run it with
//! `wasi-lambda invoke fetch --allow-host example.com -e '{"url": "https://example.com/"}'`.
//! A destination not granted fails the invocation with the errorType `EgressDenied`, before a
//! byte leaves; every failure of the call is its `Err`, reported by the client's error code.

use serde::{Deserialize, Serialize};
use wasi_lambda::http::{Client, Method, Request};
use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};

/// The event: `{"url": "https://…", "method": "POST", "body": "…"}`; the method defaults to
/// `GET`, the body to none.
#[derive(Deserialize)]
pub struct Fetch {
    url: String,
    method: Option<String>,
    body: Option<String>,
}

/// The response: the status and the body as text (invalid UTF-8 replaced).
#[derive(Serialize)]
pub struct Fetched {
    status: u16,
    body: String,
}

/// Sends the request the event describes.
pub async fn handler(client: &Client, event: LambdaEvent<Fetch>) -> Result<Fetched, Error> {
    let Fetch { url, method, body } = event.payload;
    let method = Method::from_bytes(method.as_deref().unwrap_or("GET").as_bytes())?;
    let request = Request::builder()
        .method(method)
        .uri(url)
        .body(body.unwrap_or_default().into_bytes())?;
    let response = client.send(request).await?;
    Ok(Fetched {
        status: response.status().as_u16(),
        body: String::from_utf8_lossy(response.body()).into_owned(),
    })
}

/// Init: one client for every invocation (the host keeps its connections alive).
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let client = Client::new();
    let client = &client;
    wasi_lambda::run(service_fn(move |event| handler(client, event))).await
}
