//! The hello handler in lambda_runtime's shape: `main` builds the configuration once per
//! instance, and an `async` handler borrows it for every invocation.
//!
//! Ported from lambda_runtime by changing `use lambda_runtime::…` to
//! `use wasi_lambda::runtime::…` and `#[tokio::main]` to `#[wasi_lambda::main]`; see
//! `docs/porting.md`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasi_lambda::runtime::{Error, LambdaEvent, service_fn};

/// The event: `{"name": "Ada"}`; `name` may be left out.
#[derive(Deserialize)]
pub struct Request {
    name: Option<String>,
}

/// The response: `{"message": "Hello, Ada!"}`.
#[derive(Serialize)]
pub struct Response {
    message: String,
}

/// What every invocation shares, built once at init.
pub struct Config {
    greeting: String,
    /// A stand-in for I/O (a database, an HTTP call), awaited without blocking the instance.
    delay: Duration,
}

impl Config {
    /// Reads `GREETING` (default `Hello`) and `DELAY_MS` (default 1).
    pub fn from_env() -> Result<Self, Error> {
        Ok(Self {
            greeting: std::env::var("GREETING").unwrap_or_else(|_| "Hello".to_owned()),
            delay: Duration::from_millis(match std::env::var("DELAY_MS") {
                Ok(ms) => ms.parse()?,
                Err(_) => 1,
            }),
        })
    }
}

/// Greets `event.payload.name`, or the world.
pub async fn handler(config: &Config, event: LambdaEvent<Request>) -> Result<Response, Error> {
    let name = event.payload.name.unwrap_or_else(|| "world".to_owned());
    wasi_lambda::time::sleep(config.delay).await;
    println!(
        "greeting {name} from {}",
        event.context.env_config.function_name
    );
    Ok(Response {
        message: format!("{}, {name}!", config.greeting),
    })
}

/// Init: reads the configuration once, then serves.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    let config = &config;
    wasi_lambda::run(service_fn(move |event| handler(config, event))).await
}

#[cfg(test)]
mod tests {
    use wasi_lambda::runtime::Context;

    use super::*;

    #[tokio::test]
    async fn greets_by_name_or_the_world() {
        let config = Config {
            greeting: "Hi".into(),
            delay: Duration::ZERO,
        };
        let ada = Request {
            name: Some("Ada".into()),
        };
        let response = handler(&config, LambdaEvent::new(ada, Context::default()))
            .await
            .unwrap();
        assert_eq!(response.message, "Hi, Ada!");
        let anyone = LambdaEvent::new(Request { name: None }, Context::default());
        let response = handler(&config, anyone).await.unwrap();
        assert_eq!(response.message, "Hi, world!");
    }
}
