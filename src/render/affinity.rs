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
//!
//! The calls go through the C library (nix), not rustix: rustix reads the kernel's vDSO
//! itself to ask for the current core, which crashes under valgrind (rustix issue 1559), and
//! callgrind is how bench/ counts instructions.

/// The core the calling thread runs on, where the system says.
pub fn current_core() -> Option<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        nix::sched::sched_getcpu().ok()
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

/// Pins the calling thread to `core`; `false` where the system refuses.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn pin_this_thread(core: usize) -> bool {
    use nix::sched::{CpuSet, sched_setaffinity};
    let mut cores = CpuSet::new();
    cores.set(core).is_ok() && sched_setaffinity(this_thread(), &cores).is_ok()
}

/// The calling thread, as the affinity calls name it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn this_thread() -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(0)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn pin_this_thread(_core: usize) -> bool {
    false
}

/// The cores a thread was allowed before it was held to one, to let go.
struct Held {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    before: nix::sched::CpuSet,
}

/// Holds the calling thread to `core`, the one it runs on.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn hold_this_thread(core: usize) -> Option<Held> {
    let before = nix::sched::sched_getaffinity(this_thread()).ok()?;
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
            let _ = nix::sched::sched_setaffinity(this_thread(), &self.before);
        }
    }
}

#[cfg(test)]
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(clippy::indexing_slicing)]
pub(super) mod tests {
    use super::*;
    use nix::sched::CpuSet;

    /// Runs `test` on a new thread, whose cores it may change without touching other tests'.
    pub(in crate::render) fn on_a_thread_of_its_own(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(test).join().unwrap();
    }

    /// The cores this thread may run on.
    pub(in crate::render) fn allowed() -> Vec<usize> {
        let cores = nix::sched::sched_getaffinity(this_thread()).unwrap();
        (0..CpuSet::count())
            .filter(|&c| cores.is_set(c).unwrap())
            .collect()
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
            pin.follow(Some(CpuSet::count()));
            assert_eq!(allowed(), last);
        });
    }

    #[test]
    fn a_pin_refused_by_the_system_leaves_the_thread_where_it_was() {
        on_a_thread_of_its_own(|| {
            let cores = allowed();
            assert!(pin_this_thread(cores[0]));
            let mut pin = Pin::default();
            // No machine this runs on has this core.
            pin.follow(Some(CpuSet::count() - 1));
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
