//! {{name}}: a handler in the shape of AWS's `lambda_runtime` crate — `main` builds what every
//! invocation shares once per instance, and an `async` handler takes a `LambdaEvent`.
//!
//! Code written for `lambda_runtime` moves here by changing `use lambda_runtime::…` to
//! `use wasi_lambda::runtime::…` and `#[tokio::main]` to `#[wasi_lambda::main]`.

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

/// What every invocation shares, built once at init (clients, configuration, caches).
pub struct Config {
    greeting: String,
}

impl Config {
    /// Reads `GREETING` (default `Hello`); grant it with `WASI_LAMBDA_ENV=GREETING`.
    pub fn from_env() -> Self {
        Self {
            greeting: std::env::var("GREETING").unwrap_or_else(|_| "Hello".to_owned()),
        }
    }
}

/// Greets `event.payload.name`, or the world.
pub async fn handler(config: &Config, event: LambdaEvent<Request>) -> Result<Response, Error> {
    let name = event.payload.name.unwrap_or_else(|| "world".to_owned());
    println!(
        "greeting {name} from {}",
        event.context.env_config.function_name
    );
    Ok(Response {
        message: format!("{}, {name}!", config.greeting),
    })
}

/// Init: builds the configuration once, then serves invocations.
#[wasi_lambda::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env();
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
