//! Readiness sources the executor parks on: timers, and the host's outbound HTTP requests
//! (handles from the `wasi-lambda:handler/http` import), waited on together with one host
//! `wait(handles, timeout)` call.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    task::Waker,
    time::{Duration, Instant},
};

/// Identifies one armed timer; the id breaks ties between equal deadlines.
pub(crate) type TimerKey = (Instant, u64);

#[derive(Default)]
struct Timers {
    next_id: u64,
    armed: BTreeMap<TimerKey, Waker>,
}

/// Host requests in flight: who to wake, and which the host has reported ready.
#[derive(Default)]
struct Io {
    pending: BTreeMap<u32, Waker>,
    ready: BTreeSet<u32>,
}

thread_local! {
    static TIMERS: RefCell<Timers> = RefCell::new(Timers::default());
    static IO: RefCell<Io> = RefCell::new(Io::default());
}

/// Waits on the host for `handles`, at most `timeout`; returns the ready ones.
pub(crate) type HostWait = fn(&[u32], Option<Duration>) -> Vec<u32>;

/// Registers (or re-registers) the waker of a host request, unless the host already reported
/// it ready: then returns true and the request's outcome can be taken.
// Host requests come from `wasi_lambda::http`; without the `http` feature nothing registers one.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn poll_io(handle: u32, waker: &Waker) -> bool {
    IO.with(|io| {
        let mut io = io.borrow_mut();
        if io.ready.remove(&handle) {
            io.pending.remove(&handle);
            return true;
        }
        match io.pending.get_mut(&handle) {
            Some(existing) if existing.will_wake(waker) => {}
            Some(existing) => existing.clone_from(waker),
            None => {
                io.pending.insert(handle, waker.clone());
            }
        }
        false
    })
}

/// Forgets a host request (its outcome was taken, or its future dropped).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn release_io(handle: u32) {
    IO.with(|io| {
        let mut io = io.borrow_mut();
        io.pending.remove(&handle);
        io.ready.remove(&handle);
    });
}

/// Arms a timer that wakes `waker` at `deadline`, or updates the waker of the one `key` names.
pub(crate) fn arm(deadline: Instant, waker: &Waker, key: &mut Option<TimerKey>) {
    TIMERS.with(|timers| {
        let mut timers = timers.borrow_mut();
        if let Some(existing) = key.and_then(|k| timers.armed.get_mut(&k)) {
            if !existing.will_wake(waker) {
                existing.clone_from(waker);
            }
            return;
        }
        let id = timers.next_id;
        timers.next_id += 1;
        timers.armed.insert((deadline, id), waker.clone());
        *key = Some((deadline, id));
    });
}

/// Disarms a timer (its future completed or was dropped).
pub(crate) fn disarm(key: TimerKey) {
    TIMERS.with(|timers| timers.borrow_mut().armed.remove(&key));
}

/// Blocks until the earliest timer is due or a host request is ready, then wakes every timer
/// that is due and every request that is ready. Returns false, at once, when nothing is armed:
/// nothing could ever wake the task.
pub(crate) fn park() -> bool {
    park_with(host_wait)
}

#[cfg(all(target_family = "wasm", feature = "http"))]
fn host_wait(handles: &[u32], timeout: Option<Duration>) -> Vec<u32> {
    crate::http::wait(handles, timeout)
}

/// Natively (reqwest on tokio), or without the `http` feature, no host request is registered.
#[cfg(not(all(target_family = "wasm", feature = "http")))]
fn host_wait(_handles: &[u32], _timeout: Option<Duration>) -> Vec<u32> {
    unreachable!("host requests exist on wasm32 only")
}

pub(crate) fn park_with(wait: HostWait) -> bool {
    let earliest = TIMERS.with(|timers| timers.borrow().armed.keys().next().map(|k| k.0));
    let handles: Vec<u32> = IO.with(|io| {
        let io = io.borrow();
        io.pending
            .keys()
            .copied()
            .filter(|h| !io.ready.contains(h))
            .collect()
    });
    if earliest.is_none() && handles.is_empty() {
        return false;
    }
    let now = Instant::now();
    let timeout = earliest.map(|at| at.saturating_duration_since(now));
    if handles.is_empty() {
        if let Some(timeout) = timeout.filter(|t| !t.is_zero()) {
            // One `poll_oneoff` with a single relative monotonic-clock subscription; the host
            // bounds it by the invocation's deadline.
            std::thread::sleep(timeout);
        }
    } else {
        // The host bounds this by the invocation's deadline too.
        let ready = wait(&handles, timeout);
        let woken: Vec<Waker> = IO.with(|io| {
            let mut io = io.borrow_mut();
            ready
                .into_iter()
                .filter_map(|h| {
                    let waker = io.pending.get(&h).cloned()?;
                    io.ready.insert(h);
                    Some(waker)
                })
                .collect()
        });
        woken.into_iter().for_each(Waker::wake);
    }
    let now = Instant::now();
    let due: Vec<Waker> = TIMERS.with(|timers| {
        let mut timers = timers.borrow_mut();
        let later = timers.armed.split_off(&(now, u64::MAX));
        std::mem::replace(&mut timers.armed, later)
            .into_values()
            .collect()
    });
    due.into_iter().for_each(Waker::wake);
    true
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        task::Wake,
    };

    use super::*;

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    thread_local! {
        static ASKED: RefCell<Vec<(Vec<u32>, Option<Duration>)>> = const { RefCell::new(Vec::new()) };
    }

    /// The host's `wait`, faked: reports handle 3 (and one nobody registered) ready.
    fn host_reports_3(handles: &[u32], timeout: Option<Duration>) -> Vec<u32> {
        ASKED.with(|asked| asked.borrow_mut().push((handles.to_vec(), timeout)));
        vec![3, 99]
    }

    #[test]
    fn waits_on_every_pending_request_and_the_earliest_timer_in_one_host_call() {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        assert!(!poll_io(3, &waker));
        assert!(!poll_io(4, &waker));
        let mut key = None;
        arm(Instant::now() + Duration::from_secs(5), &waker, &mut key);

        assert!(park_with(host_reports_3));
        let asked = ASKED.with(|asked| asked.take());
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].0, vec![3, 4]);
        let timeout = asked[0].1.expect("the timer bounds the wait");
        assert!(timeout > Duration::from_secs(4) && timeout <= Duration::from_secs(5));
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the ready request's waker fired"
        );

        // Ready once, then gone; the other is still pending and is waited on alone.
        assert!(poll_io(3, &waker));
        release_io(3);
        assert!(park_with(host_reports_3));
        assert_eq!(ASKED.with(|asked| asked.take())[0].0, vec![4]);
        release_io(4);
        disarm(key.expect("armed"));
    }

    #[test]
    fn with_nothing_armed_it_never_calls_the_host() {
        fn never(_: &[u32], _: Option<Duration>) -> Vec<u32> {
            unreachable!("nothing to wait for")
        }
        assert!(!park_with(never));
    }
}
