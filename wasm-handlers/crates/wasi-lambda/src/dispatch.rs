use serde::{Serialize, de::DeserializeOwned};

use crate::{Context, Error};

/// `errorType` of an event that does not deserialise into the handler's event type.
pub(crate) const UNMARSHAL_ERROR: &str = "Runtime.UnmarshalError";
/// `errorType` of a response that cannot be serialised to JSON.
pub(crate) const MARSHAL_ERROR: &str = "Runtime.MarshalError";

/// lambda_runtime's `errorType` for an event that does not deserialise into the payload type
/// (`type_name_of_val(&value)` of its `DeserializeError`).
pub(crate) const DESERIALIZE_ERROR: &str = "&lambda_runtime::deserializer::DeserializeError";

/// Accepts exactly the functions [`dispatch`] can run; the `handler` macro calls it in a
/// constant so that a wrong event, response or error type fails to compile on any target.
pub const fn assert_handler<E, R, X>(_handler: fn(E, Context) -> Result<R, X>)
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
{
}

/// Runs one invocation of `handler` on raw event bytes and returns the raw response bytes.
///
/// The generated exports call this on every target, so decoding, error mapping and encoding
/// behave the same in the wasm module and in a native build.
pub fn dispatch<E, R, X, F>(event: &[u8], ctx: Context, handler: F) -> Result<Vec<u8>, Error>
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
    F: FnOnce(E, Context) -> Result<R, X>,
{
    let event: E = serde_json::from_slice(event).map_err(|e| {
        Error::new(
            UNMARSHAL_ERROR,
            format!(
                "could not deserialise the event into `{}`: {e}",
                std::any::type_name::<E>()
            ),
        )
    })?;
    let response = handler(event, ctx).map_err(Into::into)?;
    serde_json::to_vec(&response).map_err(|e| {
        Error::new(
            MARSHAL_ERROR,
            format!("could not serialise the response to JSON: {e}"),
        )
    })
}

/// Decodes the payload and words a failure exactly as lambda_runtime does (the JSON path of
/// the offending field, and its trailing newline), so a handler reports the same error body
/// natively (where lambda_runtime decodes) and in wasm. `tests/native_run.rs` checks it against
/// lambda_runtime's own.
///
/// The path tracker wraps every value's visitor (the wasm guest spent a fifth of the 1 MB JSON
/// transform in it), so the event is decoded plainly first and only one that fails is decoded
/// again, with the tracker, for the message. Neither pass rejects trailing characters, as
/// lambda_runtime's does not.
pub fn deserialize<A: DeserializeOwned>(event: &[u8]) -> Result<A, Error> {
    const CONTEXT: &str =
        "failed to deserialize the incoming data into the function's payload type";
    if let Ok(payload) = A::deserialize(&mut serde_json::Deserializer::from_slice(event)) {
        return Ok(payload);
    }
    let json = &mut serde_json::Deserializer::from_slice(event);
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." {
            format!("{CONTEXT}: {e}\n")
        } else {
            format!("{CONTEXT}: [{path}] {e}\n")
        };
        Error::new(DESERIALIZE_ERROR, message)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Order {
        quantity: u32,
    }

    fn double(order: Order, _ctx: Context) -> Result<u32, Error> {
        if order.quantity == 0 {
            return Err(Error::new("EmptyOrder", "quantity must be positive"));
        }
        Ok(order.quantity * 2)
    }

    #[test]
    fn a_good_event_returns_the_serialised_response() {
        let out = dispatch(br#"{"quantity": 21}"#, Context::default(), double).unwrap();
        assert_eq!(out, b"42");
    }

    #[test]
    fn a_handler_error_is_passed_through() {
        let err = dispatch(br#"{"quantity": 0}"#, Context::default(), double).unwrap_err();
        assert_eq!(err, Error::new("EmptyOrder", "quantity must be positive"));
    }

    #[test]
    fn malformed_json_is_an_unmarshal_error() {
        let err = dispatch(br#"{"quantity": "#, Context::default(), double).unwrap_err();
        assert_eq!(err.error_type(), UNMARSHAL_ERROR);
        assert!(
            err.message().contains("EOF while parsing"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn a_wrong_shape_names_the_event_type() {
        let err = dispatch(br#"{"qty": 3}"#, Context::default(), double).unwrap_err();
        assert_eq!(err.error_type(), UNMARSHAL_ERROR);
        assert!(err.message().contains("Order"), "{}", err.message());
        assert!(
            err.message().contains("missing field `quantity`"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_payload_decoder_names_the_path_of_a_failure_and_accepts_what_lambda_runtime_accepts() {
        #[derive(Deserialize)]
        struct Outer {
            #[allow(dead_code)]
            inner: Vec<Order>,
        }
        let err = deserialize::<Outer>(br#"{"inner": [{"quantity": 1}, {"quantity": "2"}]}"#)
            .err()
            .unwrap();
        assert_eq!(err.error_type(), DESERIALIZE_ERROR);
        assert!(
            err.message()
                .contains(": [inner[1].quantity] inner[1].quantity: invalid type: string"),
            "{}",
            err.message()
        );
        assert!(err.message().ends_with('\n'));
        // Neither lambda_runtime's decoder nor the fast path rejects trailing characters.
        assert_eq!(
            deserialize::<Order>(br#"{"quantity": 3} trailing"#)
                .unwrap()
                .quantity,
            3
        );
    }

    #[test]
    fn an_unserialisable_response_is_a_marshal_error() {
        // JSON object keys must be strings; a map keyed by tuples cannot be written.
        let handler = |_: serde_json::Value, _: Context| -> Result<_, Error> {
            Ok(BTreeMap::from([((1, 2), "x")]))
        };
        let err = dispatch(b"{}", Context::default(), handler).unwrap_err();
        assert_eq!(err.error_type(), MARSHAL_ERROR);
    }

    #[test]
    fn the_context_reaches_the_handler() {
        let ctx = Context {
            request_id: "req-1".into(),
            ..Default::default()
        };
        let out = dispatch(b"null", ctx, |_: (), ctx: Context| -> Result<_, Error> {
            Ok(ctx.request_id)
        })
        .unwrap();
        assert_eq!(out, br#""req-1""#);
    }
}
