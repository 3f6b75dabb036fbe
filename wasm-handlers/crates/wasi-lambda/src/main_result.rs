use crate::{Error, IntoDiagnostic};

/// What `#[wasi_lambda::main]` accepts as `main`'s return type: `()` or `Result<(), E>` with
/// any error [`IntoDiagnostic`] accepts, e.g. `Result<(), lambda_runtime::Error>`.
pub trait MainResult {
    /// `Err` is an init failure, reported with the `errorType` [`IntoDiagnostic`] gives it.
    fn into_init_result(self) -> Result<(), Error>;
}

impl MainResult for () {
    fn into_init_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: IntoDiagnostic> MainResult for Result<(), E> {
    fn into_init_result(self) -> Result<(), Error> {
        self.map_err(IntoDiagnostic::into_diagnostic)
    }
}
