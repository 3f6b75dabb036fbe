//! {{name}}: greets the caller and logs a line.

use serde::{Deserialize, Serialize};
use wasi_lambda::{Context, Error};

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

/// Greets `event.name`, or the world.
#[wasi_lambda::handler]
pub fn handler(event: Request, ctx: Context) -> Result<Response, Error> {
    let name = event.name.unwrap_or_else(|| "world".to_owned());
    println!("greeting {name} from {}", ctx.function_name);
    Ok(Response {
        message: format!("Hello, {name}!"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name_or_the_world() {
        let ada = Request {
            name: Some("Ada".into()),
        };
        let response = handler(ada, Context::default()).unwrap();
        assert_eq!(response.message, "Hello, Ada!");
        let response = handler(Request { name: None }, Context::default()).unwrap();
        assert_eq!(response.message, "Hello, world!");
    }
}
