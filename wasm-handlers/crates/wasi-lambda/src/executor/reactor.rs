//! Readiness sources the executor parks on. Today: timers. See the [module above](super) for
//! how host I/O joins them.

use std::{cell::RefCell, collections::BTreeMap, task::Waker, time::Instant};

/// Identifies one armed timer; the id breaks ties between equal deadlines.
pub(crate) type TimerKey = (Instant, u64);

#[derive(Default)]
struct Timers {
    next_id: u64,
    armed: BTreeMap<TimerKey, Waker>,
}

thread_local! {
    static TIMERS: RefCell<Timers> = RefCell::new(Timers::default());
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

/// Blocks until the earliest timer is due, then wakes every timer that is. Returns false, at
/// once, when no timer is armed: nothing could ever wake the task.
pub(crate) fn park() -> bool {
    let Some(earliest) = TIMERS.with(|timers| timers.borrow().armed.keys().next().map(|k| k.0))
    else {
        return false;
    };
    let now = Instant::now();
    if earliest > now {
        // One `poll_oneoff` with a single relative monotonic-clock subscription; the host
        // bounds it by the invocation's deadline.
        std::thread::sleep(earliest - now);
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
