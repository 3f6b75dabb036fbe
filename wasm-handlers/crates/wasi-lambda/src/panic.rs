//! Writes a panic's message and location to stderr as one line before the module aborts, so
//! the host can report it as the invocation's error (it reads it from the guest's stderr)
//! instead of a bare `unreachable` trap. Natively the text is also kept for the error body.

use std::sync::Once;
#[cfg(not(target_family = "wasm"))]
use std::sync::{Mutex, PoisonError};

#[cfg(not(target_family = "wasm"))]
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Installs the hook once; later calls do nothing.
pub(crate) fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("Box<dyn Any>");
            let text = match info.location() {
                Some(at) => format!(
                    "panicked at {}:{}:{}: {message}",
                    at.file(),
                    at.line(),
                    at.column()
                ),
                None => format!("panicked: {message}"),
            };
            // One line, so the host turns it into a single ERROR log record, and the error
            // message a component host reads from stderr is the same as the core path's.
            let text = text.replace('\n', " ");
            eprintln!("{text}");
            #[cfg(not(target_family = "wasm"))]
            {
                *LAST_PANIC.lock().unwrap_or_else(PoisonError::into_inner) = Some(text);
            }
        }));
    });
}

/// The last panic's description, `panicked at FILE:LINE:COL: MESSAGE`.
#[cfg(not(target_family = "wasm"))]
pub(crate) fn last_panic() -> Option<String> {
    LAST_PANIC
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_records_message_and_location() {
        install_hook();
        let line = line!() + 1;
        let result = std::panic::catch_unwind(|| panic!("boom {}", 42));
        assert!(result.is_err());
        let recorded = last_panic().expect("a panic was recorded");
        assert_eq!(
            recorded,
            format!("panicked at {}:{line}:50: boom 42", file!())
        );
    }
}
