//! The backstop behind template fuel: every rendering runs on a worker thread, and the thread
//! that asked for it gives up on it once it runs past [`DEADLINE`] or the process's memory grows
//! by more than [`MEMORY_GROWTH`] while it runs.
//!
//! minijinja's fuel charges instructions and the data they create, which bounds everything a
//! template does step by step. It does not charge minijinja's own walks over a value inside a
//! single step: printing, comparing or serialising a list that holds the same list twice, built
//! up forty times over, visits 2^40 items; printing `[s] * 100000000` copies `s` a hundred
//! million times. Such a step cannot be interrupted, so it is left behind: the worker keeps
//! running until the process ends, the rendering is refused, and every later one of the run is
//! refused at once (the caller marks the run's budget spent), so the run ends within seconds.
//! Workers have [`STACK_BYTES`] of stack, for minijinja's recursion over values as deep as
//! fuel lets a template nest them, and run on the core of the thread they render for
//! (render/affinity.rs).
//!
//! Renderings are handed over in batches ([`run_each`]: a cluster's files, in render/files.rs),
//! because each hand-off wakes the worker and then the waiting thread: for a one-cluster render
//! that was a tenth of its time. The worker shows which job it is on and since when, and the
//! waiting thread, which looks every few milliseconds, holds each job to the bounds on its own.
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::cell::{Cell, RefCell};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::affinity::{self, Pin};

/// How long one rendering may take. Fuel-bounded work takes milliseconds.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// How much the process may grow while one rendering runs (Linux; elsewhere only the deadline
/// applies). Fuel-bounded work allocates a few MiB.
pub const MEMORY_GROWTH: u64 = 512 << 20;
/// Stack of each worker. minijinja drops, prints, compares and serialises nested values
/// recursively, and a template can nest a value about one level per 1.5 units of fuel; in a
/// debug build the costliest of these takes about 1.9 KiB per level, so this covers the
/// deepest value [`super::files::TEMPLATE_FUEL`] can build with room to spare. Only the pages a
/// rendering touches are ever backed by memory.
pub const STACK_BYTES: usize = 256 << 20;
/// How often a waiting thread looks at the clock and the process's memory.
const POLL: Duration = Duration::from_millis(5);
/// How old the reading of the process's memory that a rendering's growth is measured from may
/// be. Reading it (`/proc/self/status`) cost more than most renderings, and a large render runs
/// thousands of them; what the process legitimately grows by in this time is a few MiB against
/// the [`MEMORY_GROWTH`] allowed, so an older reading only makes the bound a little stricter.
const BASELINE_AGE: Duration = Duration::from_millis(100);

/// What a rendering produced: its text and the fuel it used, or what went wrong.
pub type Outcome = Result<(String, u64), Failure>;

/// A minijinja error as plain data. The error itself may hold the template's values (its debug
/// information), and those must be dropped on the worker, whose stack fits their depth.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub message: String,
    /// The template it happened in (an included one, perhaps).
    pub template: Option<String>,
    pub range: Option<std::ops::Range<usize>>,
    pub line: Option<usize>,
}

impl From<minijinja::Error> for Failure {
    fn from(error: minijinja::Error) -> Failure {
        Failure {
            message: match error.detail() {
                Some(detail) => format!("template error: {detail}"),
                None => format!("template error: {}", error.kind()),
            },
            template: error.name().map(str::to_string),
            range: error.range(),
            line: error.line(),
        }
    }
}

/// One rendering, as the worker runs it. It must return no minijinja value: whatever it leaves
/// behind is dropped on the worker, whose stack fits its depth.
pub type Job = Box<dyn FnOnce() -> Outcome + Send>;
/// Asked by the worker before each job of a batch, with the outcomes so far: whether to go on.
type GoOn = Box<dyn FnMut(&[Outcome]) -> bool + Send>;

/// Jobs handed over at once, and where the worker shows how far it is through them.
struct Request {
    jobs: Vec<Job>,
    go_on: GoOn,
    progress: Arc<Mutex<Progress>>,
    /// The core of the thread that waits.
    core: Option<usize>,
}

/// How far a worker is through a batch: read by the waiting thread when it looks at the clock,
/// taken when the batch ends or is given up on.
#[derive(Default)]
struct Progress {
    /// The outcomes of the jobs done, in order.
    done: Vec<Outcome>,
    /// When the job running now started.
    running_since: Option<Instant>,
}

fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    // Only a panic while it is held (in `go_on`) poisons it: a bug, which ends the run anyway.
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `jobs` in order until `go_on` says no, showing each start and outcome in `progress`.
fn work_through(
    jobs: Vec<Job>,
    go_on: &mut dyn FnMut(&[Outcome]) -> bool,
    progress: &Mutex<Progress>,
) {
    for job in jobs {
        {
            let mut progress = lock(progress);
            if !go_on(&progress.done) {
                return;
            }
            progress.running_since = Some(Instant::now());
        }
        let outcome = job();
        let mut progress = lock(progress);
        progress.running_since = None;
        progress.done.push(outcome);
    }
}

/// Why a rendering was given up on.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Overrun {
    #[error(
        "template error: rendering did not finish within {} s; kdrender gave up on it",
        DEADLINE.as_secs()
    )]
    Time,
    #[error(
        "template error: rendering grew kdrender's memory by more than {} MiB; kdrender gave up on it",
        MEMORY_GROWTH >> 20
    )]
    Memory,
}

/// A worker thread and the two ends of its conversation.
struct Worker {
    requests: Sender<Request>,
    /// One message per batch, when it ends.
    finished: Receiver<()>,
}

impl Worker {
    fn spawn() -> Option<Worker> {
        let (requests, request_receiver) = mpsc::channel::<Request>();
        let (finished_sender, finished) = mpsc::channel();
        Pin::spawn_here(|mut pin| {
            std::thread::Builder::new()
                .name("kdrender-template".into())
                .stack_size(STACK_BYTES)
                .spawn(move || {
                    while let Ok(mut request) = request_receiver.recv() {
                        pin.follow(request.core);
                        work_through(request.jobs, &mut *request.go_on, &request.progress);
                        if finished_sender.send(()).is_err() {
                            break;
                        }
                    }
                })
        })
        .ok()?;
        Some(Worker { requests, finished })
    }
}

thread_local! {
    /// Each thread that renders keeps one worker; it ends when that thread does.
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    /// The last reading of the process's memory a rendering of this thread started from.
    static BASELINE: Cell<Option<(Instant, u64)>> = const { Cell::new(None) };
}

/// The bounds a waiting thread holds a rendering to.
struct Limits {
    deadline: Duration,
    memory_growth: u64,
    memory: fn() -> Option<u64>,
    baseline_age: Duration,
}

const LIMITS: Limits = Limits {
    deadline: DEADLINE,
    memory_growth: MEMORY_GROWTH,
    memory: resident_bytes,
    baseline_age: BASELINE_AGE,
};

/// Runs `job` on this thread's worker and waits for it within the bounds.
/// `job` must return no minijinja value: whatever it leaves behind is dropped on the worker.
pub fn run(job: impl FnOnce() -> Outcome + Send + 'static) -> Result<Outcome, Overrun> {
    let mut results = run_each(vec![Box::new(job)], |_| true);
    // One job, which either ran or was given up on.
    results.pop().unwrap_or(Err(Overrun::Time))
}

/// Runs `jobs` in order on this thread's worker, handed over at once so that the worker is woken
/// once for all of them, and holds each to the bounds as [`run`] holds one. Before each job the
/// worker asks `go_on` with the outcomes so far; where it says no, the rest are not run.
///
/// The answer holds the outcome of each job that ran, in order. If one was given up on, it ends
/// with that [`Overrun`], and nothing after it ran.
pub fn run_each(
    jobs: Vec<Job>,
    go_on: impl FnMut(&[Outcome]) -> bool + Send + 'static,
) -> Vec<Result<Outcome, Overrun>> {
    run_each_within(jobs, Box::new(go_on), &LIMITS)
}

fn run_each_within(
    jobs: Vec<Job>,
    mut go_on: GoOn,
    limits: &Limits,
) -> Vec<Result<Outcome, Overrun>> {
    let progress = Arc::new(Mutex::new(Progress::default()));
    let taken = |overrun: Option<Overrun>| {
        let done = std::mem::take(&mut lock(&progress).done);
        done.into_iter().map(Ok).chain(overrun.map(Err)).collect()
    };
    WORKER.with(|slot| {
        let mut slot = slot.borrow_mut();
        let Some(worker) = slot.take().or_else(Worker::spawn) else {
            // The system gives us no thread: render here, with this thread's stack.
            work_through(jobs, &mut *go_on, &progress);
            return taken(None);
        };
        let request = Request {
            jobs,
            go_on,
            progress: Arc::clone(&progress),
            core: affinity::current_core(),
        };
        if let Err(returned) = worker.requests.send(request) {
            let mut request = returned.0;
            work_through(request.jobs, &mut *request.go_on, &progress);
            return taken(None);
        }
        let overrun = wait(&worker.finished, &progress, limits);
        // A worker given up on is left behind; the next rendering gets a new one.
        if overrun.is_none() {
            *slot = Some(worker);
        }
        taken(overrun)
    })
}

/// Waits for a batch to end, and gives up on it as soon as one job runs past the deadline or
/// the process grows past the limit while it runs.
fn wait(finished: &Receiver<()>, progress: &Mutex<Progress>, limits: &Limits) -> Option<Overrun> {
    // What the batch keeps of its earlier jobs is bounded by the caller's `go_on`, so one
    // reading before the batch serves all its jobs, as one a little older serves one job.
    let memory_before = baseline(limits);
    loop {
        match finished.recv_timeout(POLL) {
            Ok(()) => return None,
            Err(RecvTimeoutError::Timeout) => {
                let Some(since) = lock(progress).running_since else {
                    continue;
                };
                if since.elapsed() > limits.deadline {
                    return Some(Overrun::Time);
                }
                if let (Some(before), Some(now)) = (memory_before, (limits.memory)())
                    && now.saturating_sub(before) > limits.memory_growth
                {
                    return Some(Overrun::Memory);
                }
            }
            // The worker died: a panic inside minijinja is a bug, and surfaces as one. It must
            // stay a panic, not become a refusal: the fuzz targets (fuzz/) find such bugs by
            // their crashes, and no input reaches here but through one.
            #[allow(clippy::panic)]
            Err(RecvTimeoutError::Disconnected) => panic!("a template rendering panicked"),
        }
    }
}

/// The process's memory as a rendering starts: the reading an earlier rendering of this thread
/// started from, if it is younger than `baseline_age`, else a new one.
fn baseline(limits: &Limits) -> Option<u64> {
    BASELINE.with(|cached| {
        if let Some((at, bytes)) = cached.get()
            && at.elapsed() < limits.baseline_age
        {
            return Some(bytes);
        }
        let bytes = (limits.memory)()?;
        cached.set(Some((Instant::now(), bytes)));
        Some(bytes)
    })
}

/// The process's resident memory, from `/proc/self/status` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn renderings_run_on_a_worker_with_a_large_stack() {
        fn depth(n: u64) -> u64 {
            let frame = std::hint::black_box([n; 64]);
            if n == 0 {
                0
            } else {
                depth(frame[7].saturating_sub(1)).saturating_add(1)
            }
        }
        // Deeper than a default thread's 2 MiB (or a main thread's 8 MiB) of stack.
        for _ in 0..2 {
            let outcome = run(|| Ok((depth(40_000).to_string(), 0))).unwrap();
            assert_eq!(outcome.unwrap().0, "40000");
        }
    }

    /// The core a worker rendered on, as its output.
    fn worker_core() -> Option<usize> {
        let core = || affinity::current_core().map_or(String::new(), |c| c.to_string());
        let outcome = run(move || Ok((core(), 0)));
        outcome.unwrap().unwrap().0.parse().ok()
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn the_worker_renders_on_the_core_of_the_thread_that_waits_for_it() {
        use super::affinity::pin_this_thread;
        use super::affinity::tests::{allowed, on_a_thread_of_its_own};
        // A thread of its own, so that its worker is new and its cores are its own.
        on_a_thread_of_its_own(|| {
            let cores = allowed();
            // This thread is moved from core to core, as a scheduler may move it; its worker
            // follows. (One allowed core checks only the first step.)
            for &core in cores.iter().take(3).chain(cores.first()) {
                assert!(pin_this_thread(core));
                assert_eq!(worker_core(), Some(core));
            }
        });
    }

    #[test]
    fn memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().is_some_and(|b| b > 0));
        }
    }

    /// One job as a batch of one, within `limits`.
    fn run_within(
        job: impl FnOnce() -> Outcome + Send + 'static,
        limits: &Limits,
    ) -> Result<Outcome, Overrun> {
        let mut results = run_each_within(vec![Box::new(job)], Box::new(|_| true), limits);
        assert_eq!(results.len(), 1);
        results.pop().unwrap()
    }

    /// A rendering that never finishes (its worker is left parked for the test process).
    fn stuck() -> Outcome {
        loop {
            std::thread::park();
        }
    }

    #[test]
    fn a_rendering_past_its_deadline_is_given_up_and_the_next_gets_a_new_worker() {
        let limits = Limits {
            deadline: Duration::from_millis(50),
            memory_growth: u64::MAX,
            memory: || None,
            baseline_age: Duration::ZERO,
        };
        assert_eq!(run_within(stuck, &limits).err(), Some(Overrun::Time));
        let next = run_within(|| Ok(("next".to_string(), 1)), &limits);
        assert_eq!(next.unwrap().unwrap(), ("next".to_string(), 1));
    }

    #[test]
    fn a_rendering_that_grows_memory_is_given_up() {
        static READS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // Memory as a growing process would show it: 100 MiB more on every look.
        let limits = Limits {
            deadline: Duration::from_secs(3600),
            memory_growth: 512 << 20,
            memory: || {
                let reads = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some(reads.saturating_mul(100 << 20))
            },
            baseline_age: Duration::ZERO,
        };
        assert_eq!(run_within(stuck, &limits).err(), Some(Overrun::Memory));
        assert!(READS.load(std::sync::atomic::Ordering::Relaxed) >= 6);
    }

    #[test]
    fn renderings_close_together_measure_from_one_reading_of_memory() {
        static READS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let limits = Limits {
            deadline: Duration::from_secs(3600),
            memory_growth: 512 << 20,
            memory: || {
                READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some(1 << 30)
            },
            baseline_age: Duration::from_secs(3600),
        };
        for i in 0..10 {
            let outcome = run_within(move || Ok((i.to_string(), 1)), &limits);
            assert_eq!(outcome.unwrap().unwrap().0, i.to_string());
        }
        assert_eq!(READS.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    /// A job that takes `millis` and answers with the name of the thread it ran on.
    fn job_taking(millis: u64) -> Job {
        Box::new(move || {
            std::thread::sleep(Duration::from_millis(millis));
            let thread = std::thread::current();
            Ok((thread.name().unwrap_or_default().to_string(), millis))
        })
    }

    #[test]
    fn a_batch_runs_in_order_on_the_worker_and_holds_each_job_to_the_deadline() {
        let limits = Limits {
            deadline: Duration::from_millis(100),
            memory_growth: u64::MAX,
            memory: || None,
            baseline_age: Duration::ZERO,
        };
        // Together past the deadline, each well within it.
        let jobs = (1..=6).map(|i| job_taking(i * 10)).collect();
        let results = run_each_within(jobs, Box::new(|_| true), &limits);
        let outcomes: Vec<(String, u64)> =
            results.into_iter().map(|r| r.unwrap().unwrap()).collect();
        let expected: Vec<(String, u64)> = (1..=6)
            .map(|i| ("kdrender-template".to_string(), i * 10))
            .collect();
        assert_eq!(outcomes, expected);
    }

    #[test]
    fn a_batch_stops_where_the_caller_says_and_at_the_job_given_up_on() {
        let limits = Limits {
            deadline: Duration::from_millis(50),
            memory_growth: u64::MAX,
            memory: || None,
            baseline_age: Duration::ZERO,
        };
        // The worker asks before each job, with what is done so far.
        let go_on = |done: &[Outcome]| done.len() < 2;
        let results = run_each_within((1..=5).map(job_taking).collect(), Box::new(go_on), &limits);
        let fuel: Vec<u64> = results.into_iter().map(|r| r.unwrap().unwrap().1).collect();
        assert_eq!(fuel, [1, 2]);

        static LATER_RAN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let jobs: Vec<Job> = vec![
            job_taking(1),
            Box::new(stuck),
            Box::new(|| {
                LATER_RAN.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok((String::new(), 3))
            }),
        ];
        let results = run_each_within(jobs, Box::new(|_| true), &limits);
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].as_ref().unwrap().as_ref().unwrap().1, 1);
        assert_eq!(results[1].as_ref().err(), Some(&Overrun::Time));
        assert!(!LATER_RAN.load(std::sync::atomic::Ordering::Relaxed));
        // The next batch gets a new worker.
        let next = run_each_within(vec![job_taking(1)], Box::new(|_| true), &limits);
        assert_eq!(next.len(), 1);
        assert!(next[0].is_ok());
    }
}
