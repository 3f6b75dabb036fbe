//! A price quote API behind an API Gateway HTTP API (payload format 2.0).
//!
//! - `GET /health` answers `{"status":"ok"}`.
//! - `POST /quotes` takes `{"items":[{"sku":"A1","unitPriceCents":250,"quantity":3}]}` and
//!   answers the line totals, the subtotal and the tax (`?taxRate=` in percent, default 0).
//! - Anything else is a 404; a bad body is a 400 with a message. A 4xx is a normal response,
//!   not a Lambda error: the handler itself succeeded.

use aws_lambda_events::{
    apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse},
    encodings::Body,
    http::{HeaderMap, HeaderValue, Method, header::CONTENT_TYPE},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wasi_lambda::{Context, Error};

/// The body of `POST /quotes`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QuoteRequest {
    items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Item {
    sku: String,
    unit_price_cents: u64,
    quantity: u32,
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Quote {
    lines: Vec<Line>,
    subtotal_cents: u64,
    tax_cents: u64,
    total_cents: u64,
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Line {
    sku: String,
    total_cents: u64,
}

/// Routes an HTTP API request.
#[wasi_lambda::handler]
pub fn api(
    request: ApiGatewayV2httpRequest,
    ctx: Context,
) -> Result<ApiGatewayV2httpResponse, Error> {
    let method = &request.request_context.http.method;
    let path = request.raw_path.as_deref().unwrap_or("/");
    println!("{method} {path} ({})", ctx.request_id);
    Ok(match (method, path) {
        (&Method::GET, "/health") => respond(200, json!({ "status": "ok" })),
        (&Method::POST, "/quotes") => match quote(&request) {
            Ok(quote) => respond(200, serde_json::to_value(quote)?),
            Err(message) => respond(400, json!({ "message": message })),
        },
        _ => respond(
            404,
            json!({ "message": format!("no route for {method} {path}") }),
        ),
    })
}

fn quote(request: &ApiGatewayV2httpRequest) -> Result<Quote, String> {
    let body = request.body.as_deref().ok_or("a JSON body is required")?;
    let body: QuoteRequest =
        serde_json::from_str(body).map_err(|e| format!("invalid quote request: {e}"))?;
    let tax_percent: u64 = match request.query_string_parameters.first("taxRate") {
        Some(rate) => rate
            .parse()
            .map_err(|_| format!("taxRate must be a whole percentage, got {rate:?}"))?,
        None => 0,
    };
    let lines: Vec<Line> = body
        .items
        .into_iter()
        .map(|item| Line {
            total_cents: item.unit_price_cents * u64::from(item.quantity),
            sku: item.sku,
        })
        .collect();
    let subtotal_cents = lines.iter().map(|line| line.total_cents).sum();
    // Round half up to the cent, as a till would.
    let tax_cents = (subtotal_cents * tax_percent + 50) / 100;
    Ok(Quote {
        lines,
        subtotal_cents,
        tax_cents,
        total_cents: subtotal_cents + tax_cents,
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

    fn request(method: &str, path: &str, body: Option<&str>) -> ApiGatewayV2httpRequest {
        serde_json::from_value(json!({
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": "taxRate=10",
            "queryStringParameters": { "taxRate": "10" },
            "requestContext": { "http": { "method": method, "path": path } },
            "body": body,
            "isBase64Encoded": false
        }))
        .unwrap()
    }

    #[test]
    fn quotes_line_totals_and_tax() {
        let body = r#"{"items":[{"sku":"A1","unitPriceCents":250,"quantity":3},{"sku":"B2","unitPriceCents":199,"quantity":1}]}"#;
        let quote = quote(&request("POST", "/quotes", Some(body))).unwrap();
        assert_eq!(quote.subtotal_cents, 949);
        assert_eq!(quote.tax_cents, 95);
        assert_eq!(quote.total_cents, 1044);
    }

    #[test]
    fn a_bad_body_is_a_400_not_a_lambda_error() {
        let response = api(request("POST", "/quotes", Some("{}")), Context::default()).unwrap();
        assert_eq!(response.status_code, 400);
    }

    #[test]
    fn unknown_routes_are_404() {
        let response = api(request("GET", "/nope", None), Context::default()).unwrap();
        assert_eq!(response.status_code, 404);
    }
}
