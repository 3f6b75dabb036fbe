//! Timers for `async` handlers and `main`, the same call on both targets.
//!
//! Natively these are tokio's (the `bootstrap` runs on a tokio runtime); on wasm32 they are
//! armed on the SDK's executor, which blocks in the host until the earliest one is due instead
//! of spinning, so timers in concurrent futures overlap:
//!
//! ```
//! # async fn demo() {
//! use std::time::Duration;
//! use wasi_lambda::time::sleep;
//! // Both sleeps run at once: this takes about 200 ms, not 400 ms.
//! futures::join!(sleep(Duration::from_millis(200)), sleep(Duration::from_millis(200)));
//! # }
//! ```

#[cfg(not(target_family = "wasm"))]
pub use tokio::time::{Sleep, sleep};
#[cfg(target_family = "wasm")]
pub use wasm::{Sleep, sleep};

// Also compiled on the host under clippy (lint) and for the executor's unit tests.
#[cfg(any(target_family = "wasm", clippy, test))]
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
pub(crate) mod wasm {
    use std::{
        future::Future,
        pin::Pin,
        task::{Context, Poll},
        time::{Duration, Instant},
    };

    use crate::executor::reactor::{self, TimerKey};

    /// Longer than any invocation or init phase can last; keeps `Instant` arithmetic in range.
    const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

    /// Waits until `duration` has elapsed.
    pub fn sleep(duration: Duration) -> Sleep {
        let now = Instant::now();
        Sleep {
            deadline: now + duration.min(FOREVER),
            key: None,
        }
    }

    /// The future [`sleep`] returns.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Sleep {
        deadline: Instant,
        key: Option<TimerKey>,
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if Instant::now() >= self.deadline {
                if let Some(key) = self.key.take() {
                    reactor::disarm(key);
                }
                return Poll::Ready(());
            }
            let deadline = self.deadline;
            reactor::arm(deadline, cx.waker(), &mut self.key);
            Poll::Pending
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            if let Some(key) = self.key.take() {
                reactor::disarm(key);
            }
        }
    }
}
