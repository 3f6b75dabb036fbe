//! {{name}}: an HTTP API behind API Gateway (HTTP API, payload format 2.0) or a Function URL.
//!
//! - `GET /hello?name=Ada` answers `{"message":"Hello, Ada!"}`.
//! - Anything else is a 404. A 4xx is a normal response, not a Lambda error.

use aws_lambda_events::{
    apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse},
    encodings::Body,
    http::{HeaderMap, HeaderValue, Method, header::CONTENT_TYPE},
};
use serde_json::json;
use wasi_lambda::{Context, Error};

/// Routes one request.
#[wasi_lambda::handler]
pub fn handler(
    request: ApiGatewayV2httpRequest,
    ctx: Context,
) -> Result<ApiGatewayV2httpResponse, Error> {
    let method = &request.request_context.http.method;
    let path = request.raw_path.as_deref().unwrap_or("/");
    println!("{method} {path} ({})", ctx.request_id);
    Ok(match (method, path) {
        (&Method::GET, "/hello") => {
            let name = request
                .query_string_parameters
                .first("name")
                .unwrap_or("world");
            respond(200, json!({ "message": format!("Hello, {name}!") }))
        }
        _ => respond(
            404,
            json!({ "message": format!("no route for {method} {path}") }),
        ),
    })
}

fn respond(status: i64, body: serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, query: serde_json::Value) -> ApiGatewayV2httpRequest {
        serde_json::from_value(json!({
            "version": "2.0",
            "rawPath": path,
            "queryStringParameters": query,
            "requestContext": { "http": { "method": method, "path": path } },
            "isBase64Encoded": false
        }))
        .unwrap()
    }

    #[test]
    fn greets_by_query_parameter() {
        let response = handler(
            request("GET", "/hello", json!({ "name": "Ada" })),
            Context::default(),
        )
        .unwrap();
        assert_eq!(response.status_code, 200);
        assert_eq!(
            response.body,
            Some(Body::Text(r#"{"message":"Hello, Ada!"}"#.into()))
        );
    }

    #[test]
    fn an_unknown_route_is_a_404_not_a_lambda_error() {
        let response =
            handler(request("POST", "/nope", json!({})), Context::default()).unwrap();
        assert_eq!(response.status_code, 404);
    }
}
