use std::fmt;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A handler failure, reported to Lambda as `{"errorType": …, "errorMessage": …}`.
///
/// Any error type converts into it with `?`: the error type's name (its last path segment,
/// e.g. `ParseIntError`) becomes `errorType` and its `Display` text becomes `errorMessage`.
/// Strings convert too, with the `errorType` `Error`. Build one with [`Error::new`] to pick
/// the `errorType` yourself, for example to drive a Step Functions `Retry` rule.
///
/// ```
/// use wasi_lambda::Error;
///
/// fn parse(input: &str) -> Result<u32, Error> {
///     Ok(input.parse::<u32>()?)
/// }
/// let err = parse("x").unwrap_err();
/// assert_eq!(err.error_type(), "ParseIntError");
/// assert_eq!(err.message(), "invalid digit found in string");
///
/// let err = Error::new("Retryable", "database busy");
/// assert_eq!(err.to_json(), r#"{"errorType":"Retryable","errorMessage":"database busy"}"#);
/// ```
///
/// An `async` handler (see [`run`](crate::run)) may return it too, and its `errorType`
/// survives a trip through `Box<dyn Error>` ([`Error::into_boxed`], then `?` or `From`).
///
/// It does not implement `std::error::Error`, for the reason `anyhow::Error` and
/// `Box<dyn Error>` do not: that impl cannot coexist with the blanket `From` that makes `?`
/// work on every error (E0119: `From<Error> for Error` would overlap `impl<T> From<T> for T`).
/// Borrow it as one with [`AsRef`]:
///
/// ```
/// let err = wasi_lambda::Error::new("Retryable", "database busy");
/// let std_err: &(dyn std::error::Error + Send + Sync) = err.as_ref();
/// assert_eq!(std_err.to_string(), "Retryable: database busy");
/// let boxed = err.into_boxed();
/// assert_eq!(wasi_lambda::Error::from(boxed).error_type(), "Retryable");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Diagnosed);

/// The `errorType`/`errorMessage` pair, as a `std::error::Error` so it can travel inside a
/// `Box<dyn Error>` and be recognised by downcasting on the way out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Diagnosed {
    error_type: String,
    message: String,
}

impl fmt::Display for Diagnosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for Diagnosed {}

impl Error {
    /// An error with an explicit `errorType` and `errorMessage`.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self(Diagnosed {
            error_type: error_type.into(),
            message: message.into(),
        })
    }

    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &str {
        &self.0.error_type
    }

    /// The `errorMessage` Lambda reports.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The Lambda error body as JSON.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            error_type: &'a str,
            error_message: &'a str,
        }
        let body = Body {
            error_type: &self.0.error_type,
            error_message: &self.0.message,
        };
        serde_json::to_string(&body).expect("two strings always serialise")
    }

    /// The error as a `Box<dyn std::error::Error>` (`lambda_runtime::Error`), from which
    /// `From` and the `async` handler path recover the `errorType`.
    pub fn into_boxed(self) -> BoxError {
        Box::new(self.0)
    }

    pub(crate) fn into_parts(self) -> (String, String) {
        (self.0.error_type, self.0.message)
    }
}

/// An error an `async` handler or `main` may return: anything that converts into
/// `Box<dyn std::error::Error + Send + Sync>` (`lambda_runtime::Error`, `anyhow::Error`, any
/// `std::error::Error`, `String`, `&str`), and [`wasi_lambda::Error`](Error).
///
/// The `errorType` is the one lambda_runtime's `Diagnostic` gives a handler error of type `E`:
/// `std::any::type_name::<&E>()` (its `From` impls call `type_name_of_val(&value)`), e.g.
/// `&alloc::string::String` or `&anyhow::Error`; the message is its `Display` text. An error
/// that is, or boxes, a [`wasi_lambda::Error`](Error) keeps the `errorType` it was given,
/// which is how to choose one (lambda_runtime's way, `impl From<MyError> for Diagnostic`, is
/// not seen here).
///
/// ```
/// use wasi_lambda::IntoDiagnostic;
/// assert_eq!(String::from("no").into_diagnostic().error_type(), "&alloc::string::String");
/// let chosen = wasi_lambda::Error::new("Retryable", "busy").into_boxed();
/// assert_eq!(chosen.into_diagnostic().error_type(), "Retryable");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be reported as a Lambda error",
    label = "the handler's (or `main`'s) error type",
    note = "return an error that converts into `Box<dyn std::error::Error + Send + Sync>` \
            (`wasi_lambda::runtime::Error`, `anyhow::Error`, any `std::error::Error`), or a \
            `wasi_lambda::Error`"
)]
pub trait IntoDiagnostic {
    /// The `errorType` and `errorMessage` Lambda reports.
    fn into_diagnostic(self) -> Error;
}

impl<E: Into<BoxError>> IntoDiagnostic for E {
    fn into_diagnostic(self) -> Error {
        diagnose(self.into(), || std::any::type_name::<&E>().to_owned())
    }
}

impl IntoDiagnostic for Error {
    fn into_diagnostic(self) -> Error {
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<BoxError>> From<E> for Error {
    fn from(error: E) -> Self {
        let error_type = short_type_name(std::any::type_name::<E>());
        diagnose(error.into(), || error_type)
    }
}

impl AsRef<dyn std::error::Error + Send + Sync> for Error {
    fn as_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &self.0
    }
}

/// `alloc::string::String` → `Error`, `core::num::error::ParseIntError` → `ParseIntError`,
/// `my_crate::Failure<u8>` → `Failure`: what a reader of the Lambda console wants to see.
/// An error already diagnosed keeps its type (a wasi-lambda error that travelled through a
/// box); an HTTP client error is reported by its code (`EgressDenied`, `Timeout`, …) rather
/// than its Rust type; any other error gets `error_type`.
fn diagnose(error: BoxError, error_type: impl FnOnce() -> String) -> Error {
    let error = match error.downcast::<Diagnosed>() {
        Ok(diagnosed) => return Error(*diagnosed),
        Err(other) => other,
    };
    #[cfg(feature = "http")]
    let error = match error.downcast::<crate::http::HttpError>() {
        Ok(http) => {
            let (code, message) = http.into_parts();
            return Error::new(code, message);
        }
        Err(other) => other,
    };
    Error::new(error_type(), error.to_string())
}

fn short_type_name(full: &str) -> String {
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").next().unwrap_or(base);
    match last {
        "" | "String" | "Box" | "Cow" => "Error".to_owned(),
        name if name.starts_with('&') => "Error".to_owned(),
        name => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Failure<T>(T);
    impl<T: fmt::Debug> fmt::Display for Failure<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "failed with {:?}", self.0)
        }
    }
    impl<T: fmt::Debug> std::error::Error for Failure<T> {}

    #[test]
    fn std_errors_keep_their_type_name() {
        let err: Error = "12x".parse::<i32>().unwrap_err().into();
        assert_eq!(err.error_type(), "ParseIntError");
    }

    #[test]
    fn generic_user_errors_drop_their_parameters() {
        let err: Error = Failure(7u8).into();
        assert_eq!(err.error_type(), "Failure");
        assert_eq!(err.message(), "failed with 7");
    }

    #[test]
    fn strings_become_plain_errors() {
        let from_str: Error = "bad input".into();
        let from_string: Error = String::from("bad input").into();
        assert_eq!(from_str, Error::new("Error", "bad input"));
        assert_eq!(from_string, Error::new("Error", "bad input"));
    }

    #[test]
    fn boxed_errors_become_plain_errors() {
        let boxed: BoxError = Box::new(Failure("x"));
        let err: Error = boxed.into();
        assert_eq!(err.error_type(), "Error");
        assert_eq!(err.message(), "failed with \"x\"");
    }

    #[test]
    fn a_boxed_wasi_lambda_error_keeps_its_type() {
        let boxed = Error::new("Retryable", "busy").into_boxed();
        let err: Error = boxed.into();
        assert_eq!(err, Error::new("Retryable", "busy"));
    }

    #[test]
    fn diagnostics_name_the_type_as_lambda_runtime_does() {
        // lambda_runtime: `Diagnostic::from(String)` → `type_name_of_val(&value)`.
        let err = String::from("no").into_diagnostic();
        assert_eq!(err, Error::new("&alloc::string::String", "no"));
        let err = "12x".parse::<i32>().unwrap_err().into_diagnostic();
        assert_eq!(err.error_type(), "&core::num::error::ParseIntError");
        let boxed: BoxError = "plain".into();
        assert_eq!(
            boxed.into_diagnostic().error_type(),
            "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
        );
        let chosen = Error::new("Retryable", "busy").into_boxed();
        assert_eq!(chosen.into_diagnostic(), Error::new("Retryable", "busy"));
        let direct = Error::new("Retryable", "busy").into_diagnostic();
        assert_eq!(direct, Error::new("Retryable", "busy"));
    }

    #[test]
    fn json_body_escapes_its_fields() {
        let err = Error::new("Bad\"Type", "line1\nline2");
        let body: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(body["errorType"], "Bad\"Type");
        assert_eq!(body["errorMessage"], "line1\nline2");
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_errors_are_reported_by_their_code_through_any_box() {
        let denied =
            || crate::http::HttpError::new("EgressDenied", "egress to x:80 is not granted");
        let direct: Error = denied().into();
        let boxed: BoxError = denied().into();
        assert_eq!(
            (direct.error_type(), direct.message()),
            ("EgressDenied", "egress to x:80 is not granted")
        );
        assert_eq!(boxed.into_diagnostic().error_type(), "EgressDenied");
        assert_eq!(denied().into_diagnostic().error_type(), "EgressDenied");
    }
}
