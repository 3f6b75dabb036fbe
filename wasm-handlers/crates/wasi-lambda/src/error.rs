use std::fmt;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: String,
    message: String,
}

impl Error {
    /// An error with an explicit `errorType` and `errorMessage`.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The `errorMessage` Lambda reports.
    pub fn message(&self) -> &str {
        &self.message
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
            error_type: &self.error_type,
            error_message: &self.message,
        };
        serde_json::to_string(&body).expect("two strings always serialise")
    }

    pub(crate) fn into_parts(self) -> (String, String) {
        (self.error_type, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl<E: Into<BoxError>> From<E> for Error {
    fn from(error: E) -> Self {
        let error_type = short_type_name(std::any::type_name::<E>());
        Self::new(error_type, error.into().to_string())
    }
}

/// `alloc::string::String` → `Error`, `core::num::error::ParseIntError` → `ParseIntError`,
/// `my_crate::Failure<u8>` → `Failure`: what a reader of the Lambda console wants to see.
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
    fn json_body_escapes_its_fields() {
        let err = Error::new("Bad\"Type", "line1\nline2");
        let body: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(body["errorType"], "Bad\"Type");
        assert_eq!(body["errorMessage"], "line1\nline2");
    }
}
