//! Keeps a sandbox worker on the core of the thread that hands it work ([`super::sandbox`]).
//!
//! The thread that asks for a rendering sleeps until the worker answers, so the two never run
//! at once. Left to the scheduler, a woken worker goes to an idle core, and on a virtual
//! machine waking a halted core costs tens of microseconds, twice per rendering: that was a
//! third of a one-cluster render. On the caller's own core the hand-off is a context switch.
//!
//! A new worker starts there too: the caller holds itself to its core while it starts the
//! thread, which inherits that, and lets go after. Otherwise the new thread's first run would
//! wake the other core only to be moved back.
//!
//! Pinning is best effort: where the system refuses it (or on other systems) the worker runs
//! wherever the scheduler puts it, as before. The caller is held only while it starts a
//! worker; when the scheduler moves it, its next rendering moves the worker after it.

/// The core the calling thread runs on, where the system says.
pub fn current_core() -> Option<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Some(rustix::thread::sched_getcpu())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

/// Where a worker is held: the core it was last pinned to.
#[derive(Debug, Default)]
pub struct Pin {
    core: Option<usize>,
}

impl Pin {
    /// Starts a thread with `start` held to the calling thread's core, and returns it with the
    /// pin it starts with.
    pub fn spawn_here<T>(start: impl FnOnce(Pin) -> std::io::Result<T>) -> std::io::Result<T> {
        let core = current_core();
        let held = core.and_then(hold_this_thread);
        let pin = Pin {
            core: core.filter(|_| held.is_some()),
        };
        let started = start(pin);
        if let Some(held) = held {
            held.release();
        }
        started
    }

    /// Pins the calling thread (the worker) to `core`, unless it is pinned there already.
    /// A core the system will not pin to leaves the thread where it was.
    pub fn follow(&mut self, core: Option<usize>) {
        let Some(core) = core else { return };
        if self.core != Some(core) && pin_this_thread(core) {
            self.core = Some(core);
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pin_this_thread(core: usize) -> bool {
    use rustix::thread::{CpuSet, sched_setaffinity};
    if core >= CpuSet::MAX_CPU {
        return false;
    }
    let mut cores = CpuSet::new();
    cores.set(core);
    sched_setaffinity(None, &cores).is_ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pin_this_thread(_core: usize) -> bool {
    false
}

/// The cores a thread was allowed before it was held to one, to let go.
struct Held {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    before: rustix::thread::CpuSet,
}

/// Holds the calling thread to `core`, the one it runs on.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn hold_this_thread(core: usize) -> Option<Held> {
    let before = rustix::thread::sched_getaffinity(None).ok()?;
    pin_this_thread(core).then_some(Held { before })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn hold_this_thread(_core: usize) -> Option<Held> {
    None
}

impl Held {
    fn release(self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // Failing to widen again leaves this thread on its core: slower, still correct.
            let _ = rustix::thread::sched_setaffinity(None, &self.before);
        }
    }
}

#[cfg(test)]
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

    /// Runs `test` on a new thread, whose cores it may change without touching other tests'.
    fn on_a_thread_of_its_own(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(test).join().unwrap();
    }

    /// The cores this thread may run on.
    fn allowed() -> Vec<usize> {
        let cores = sched_getaffinity(None).unwrap();
        (0..CpuSet::MAX_CPU).filter(|&c| cores.is_set(c)).collect()
    }

    #[test]
    fn a_pin_holds_the_thread_to_the_core_it_follows_and_moves_with_it() {
        on_a_thread_of_its_own(|| {
            let cores = allowed();
            let mut pin = Pin::default();
            // Follow each allowed core in turn (at most a few): the thread may run on that
            // core alone, and on it runs.
            for &core in cores.iter().take(4) {
                pin.follow(Some(core));
                assert_eq!(allowed(), vec![core]);
                assert_eq!(current_core(), Some(core));
            }
            // Nothing to follow leaves the pin as it is.
            let last = allowed();
            pin.follow(None);
            assert_eq!(allowed(), last);
            // A core past what the system can name is refused, not a panic.
            pin.follow(Some(CpuSet::MAX_CPU));
            assert_eq!(allowed(), last);
        });
    }

    #[test]
    fn a_pin_refused_by_the_system_leaves_the_thread_where_it_was() {
        on_a_thread_of_its_own(|| {
            let cores = allowed();
            let mut only = CpuSet::new();
            only.set(cores[0]);
            sched_setaffinity(None, &only).unwrap();
            let mut pin = Pin::default();
            // No machine this runs on has this core.
            pin.follow(Some(CpuSet::MAX_CPU - 1));
            assert_eq!(allowed(), vec![cores[0]]);
            assert_eq!(pin.core, None);
        });
    }

    #[test]
    fn a_thread_spawned_here_starts_on_this_core_and_this_thread_is_let_go() {
        on_a_thread_of_its_own(|| {
            let before = allowed();
            let (started_on, pin) = Pin::spawn_here(|pin| {
                let started = std::thread::spawn(allowed);
                Ok((started, pin))
            })
            .unwrap();
            let started_on = started_on.join().unwrap();
            assert_eq!(started_on.len(), 1, "{started_on:?}");
            assert!(before.contains(&started_on[0]));
            assert_eq!(pin.core, Some(started_on[0]));
            assert_eq!(allowed(), before);
        });
    }
}
