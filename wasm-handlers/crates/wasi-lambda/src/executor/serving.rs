//! The hand-off between the `handle` export and [`run`](crate::run) inside `main`: the export
//! leaves an invocation here and drives the task until `run` has left the result.

use std::{
    cell::RefCell,
    future::{Future, poll_fn},
    pin::pin,
    task::{Poll, Waker},
};

use super::wake_main;
use crate::{Error, lambda_types::Context};

/// One invocation as the host delivered it.
pub(crate) struct Invocation {
    pub(crate) event: Vec<u8>,
    pub(crate) context: Context,
}

#[derive(Default)]
struct Slot {
    /// `run` is parked in [`next`], ready for an invocation.
    waiting: Option<Waker>,
    invocation: Option<Invocation>,
    result: Option<Result<Vec<u8>, Error>>,
    /// The export gave up on the current invocation (it stalled).
    abort: bool,
}

thread_local! {
    static SLOT: RefCell<Slot> = RefCell::new(Slot::default());
}

fn with<T>(f: impl FnOnce(&mut Slot) -> T) -> T {
    SLOT.with(|slot| f(&mut slot.borrow_mut()))
}

/// `run`'s side: the next invocation.
pub(crate) async fn next() -> Invocation {
    poll_fn(|cx| {
        with(|slot| match slot.invocation.take() {
            Some(invocation) => {
                slot.waiting = None;
                Poll::Ready(invocation)
            }
            None => {
                slot.waiting = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    })
    .await
}

/// `run`'s side: the result of the invocation [`next`] returned.
pub(crate) fn complete(result: Result<Vec<u8>, Error>) {
    with(|slot| slot.result = Some(result));
}

/// `run`'s side: runs `future` unless the export aborts the invocation, in which case the
/// future is dropped (disarming its timers) and this returns `None`.
pub(crate) async fn abortable<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    poll_fn(|cx| {
        if with(|slot| std::mem::take(&mut slot.abort)) {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}

/// The export's side: whether `run` waits for an invocation.
pub(crate) fn is_waiting() -> bool {
    with(|slot| slot.waiting.is_some())
}

/// The export's side: hands `run` an invocation.
pub(crate) fn offer(invocation: Invocation) {
    let waker = with(|slot| {
        slot.abort = false;
        slot.result = None;
        slot.invocation = Some(invocation);
        slot.waiting.take()
    });
    waker.map_or_else(wake_main, Waker::wake);
}

/// The export's side: the result, once `run` left it.
pub(crate) fn take_result() -> Option<Result<Vec<u8>, Error>> {
    with(|slot| slot.result.take())
}

/// The export's side: makes `run` drop the current invocation's future.
pub(crate) fn abort() {
    with(|slot| slot.abort = true);
    wake_main();
}
