//! The executor of a `#[wasi_lambda::main]` module on wasm32: one task, `main`, which after
//! initialisation sits in [`run`](crate::run) serving invocations, driven from the `init` and
//! `handle` exports.
//!
//! The host calls the module synchronously, so each export drives the task until what it waits
//! for is there (`main` reached `run`, or an invocation's result). The task is polled only
//! after its waker fired; when it is not runnable the executor *parks* on the
//! [`reactor`](reactor), which blocks the thread in the host until a readiness source fires.
//! When nothing can fire (no timer armed, no host I/O pending) the task can never make progress:
//! that is reported as [`Stalled`](Drive::Stalled), never waited on.
//!
//! # Readiness sources
//! Timers ([`crate::time::sleep`]) and host HTTP requests ([`crate::http`]). A request future
//! registers its host handle and waker with the reactor (as a timer does); `reactor::park`
//! calls the host import `wait(handles, timeout)` with every pending handle and the earliest
//! timer as the timeout (or, with no request pending, sleeps with one WASI `poll_oneoff` until
//! the earliest timer), then wakes the wakers of the handles the host reports ready and of the
//! timers that are due. The executor only asks the reactor two things, "park until something
//! fires" and "is anything armed".

pub(crate) mod reactor;
pub(crate) mod serving;

use std::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
};

use crate::Error;

/// `main`'s future, its output mapped to an init error.
pub type MainFuture = Pin<Box<dyn Future<Output = Result<(), Error>>>>;

struct MainWaker;

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        wake_main();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_main();
    }
}

// Per thread: wasm32-wasip1 modules have one, and natively each unit test gets its own
// executor. A waker is only ever woken on the executor's thread.
thread_local! {
    /// Set by the task's waker.
    static WOKEN: Cell<bool> = const { Cell::new(false) };
    static TASK: RefCell<Option<MainFuture>> = const { RefCell::new(None) };
    static WAKER: Waker = Waker::from(Arc::new(MainWaker));
}

/// Marks the task runnable; the executor polls it before parking again.
pub(crate) fn wake_main() {
    WOKEN.set(true);
}

/// Makes `main` the task, runnable at once.
pub(crate) fn spawn_main(main: MainFuture) {
    TASK.with(|task| *task.borrow_mut() = Some(main));
    wake_main();
}

/// How [`drive`] ended.
#[derive(Debug)]
pub(crate) enum Drive<T> {
    /// What the caller waited for.
    Done(T),
    /// `main` returned (or there is no task); the task is gone.
    MainReturned(Result<(), Error>),
    /// The task waits for something that nothing armed can ever bring.
    Stalled,
}

/// Polls the task whenever it was woken and parks otherwise, until `done` yields a value.
pub(crate) fn drive<T>(mut done: impl FnMut() -> Option<T>) -> Drive<T> {
    loop {
        if WOKEN.replace(false) {
            if let Poll::Ready(result) = poll_main() {
                return Drive::MainReturned(result);
            }
        }
        if let Some(value) = done() {
            return Drive::Done(value);
        }
        if WOKEN.get() {
            continue;
        }
        if !reactor::park() {
            return Drive::Stalled;
        }
    }
}

fn poll_main() -> Poll<Result<(), Error>> {
    TASK.with(|task| {
        let mut slot = task.borrow_mut();
        let Some(future) = slot.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let poll = WAKER.with(|waker| future.as_mut().poll(&mut Context::from_waker(waker)));
        if poll.is_ready() {
            *slot = None;
        }
        poll
    })
}
