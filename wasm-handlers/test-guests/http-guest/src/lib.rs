//! A test guest for outbound HTTP through `wasi_lambda::http`: requests awaited together, a
//! request raced against a timer (the loser is dropped, so the host must forget it), and
//! requests one after the other on one instance.

use std::time::{Duration, Instant};

use futures::future::{Either, join_all, select};
use serde::Deserialize;
use serde_json::{Value, json};
use wasi_lambda::{
    http::Client,
    runtime::{Error, LambdaEvent, service_fn},
    time::sleep,
};

/// What the handler should do.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// GET every URL at once; answer each status and body (or error code) and the elapsed ms.
    Join {
        /// The URLs.
        urls: Vec<String>,
    },
    /// GET `url`, giving up after `ms`; answer which finished first.
    Race {
        /// The URL.
        url: String,
        /// Milliseconds before the timer wins.
        ms: u64,
    },
    /// GET `url` with the client's own timeout of `ms`.
    Timeout {
        /// The URL.
        url: String,
        /// The client's timeout.
        ms: u64,
    },
}

async fn get(client: &Client, url: &str) -> Value {
    match client.get(url).await {
        Ok(response) => json!({
            "status": response.status().as_u16(),
            "body": String::from_utf8_lossy(response.body()),
        }),
        Err(err) => json!({ "code": err.code(), "message": err.message() }),
    }
}

/// Runs one action.
pub async fn handler(client: &Client, event: LambdaEvent<Action>) -> Result<Value, Error> {
    let started = Instant::now();
    let answer = match event.payload {
        Action::Join { urls } => {
            let results = join_all(urls.iter().map(|url| get(client, url))).await;
            json!({ "results": results })
        }
        Action::Race { url, ms } => {
            let request = Box::pin(get(client, &url));
            let timer = Box::pin(sleep(Duration::from_millis(ms)));
            match select(request, timer).await {
                Either::Left((result, _)) => json!({ "winner": "request", "result": result }),
                Either::Right(((), _)) => json!({ "winner": "timer" }),
            }
        }
        Action::Timeout { url, ms } => {
            let client = client.clone().timeout(Duration::from_millis(ms));
            get(&client, &url).await
        }
    };
    Ok(json!({ "answer": answer, "elapsedMs": started.elapsed().as_millis() as u64 }))
}

/// Init: one client for the instance.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let client = Client::new();
    let client = &client;
    wasi_lambda::run(service_fn(move |event| handler(client, event))).await
}
