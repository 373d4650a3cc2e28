//! A parallel map that keeps the input order, for rendering clusters on every core.
//!
//! Workers take the next index from a shared counter, so a slow cluster does not hold up a whole
//! chunk; results are put back in input order, so the output never depends on scheduling.
//! [`map`] collects them ([`map_owned`] moves each item into the work, so it is freed as soon as
//! its result is made); [`for_each_in_order`] hands each to a sink as soon as it and every
//! result before it are done, so a run holds only the results finished out of order (about one
//! per worker), never all of them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

/// Upper bound on worker threads; rendering is CPU-bound and Argo CD runs many renders at once.
const MAX_THREADS: usize = 8;
/// Below this many items, starting threads (and the allocator arenas they bring) costs more
/// than it saves.
const MIN_ITEMS: usize = 8;

/// How many workers `count` items deserve.
fn threads_for(count: usize) -> usize {
    // Asking for the core count reads cgroup files: not worth it for a small repository.
    if count < MIN_ITEMS {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
            .min(count)
    }
}

pub fn map<I: Sync, R: Send>(items: &[I], f: impl Fn(&I) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            break;
                        };
                        done.push((index, f(item)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            match worker.join() {
                Ok(done) => {
                    for (index, result) in done {
                        if let Some(slot) = slots.get_mut(index) {
                            *slot = Some(result);
                        }
                    }
                }
                // A panic is a bug: let it surface as one.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// [`map`] over owned items: each is moved into `f`, so what it holds is freed as soon as its
/// result is made, not when the last result is.
pub fn map_owned<I: Send, R: Send>(items: Vec<I>, f: impl Fn(I) -> R + Sync) -> Vec<R> {
    let cells: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let take = |cell: &Mutex<Option<I>>| {
        // Each cell is visited once; a poisoned one only follows a panic, which resurfaces.
        let item = cell.lock().unwrap_or_else(PoisonError::into_inner).take();
        item.map(&f)
    };
    map(&cells, take).into_iter().flatten().collect()
}

/// Calls `f` on every item (on several workers) and `sink` on each result, in input order, as
/// soon as that result and all those before it are done. `sink` runs on a worker, one call at a
/// time; a worker that finds another one in the sink does not wait for it, but leaves its result
/// and goes on with the next item (the sink's holder hands it on).
pub fn for_each_in_order<I: Sync, R: Send>(
    items: &[I],
    f: impl Fn(&I) -> R + Sync,
    sink: impl FnMut(R) + Send,
) {
    let threads = threads_for(items.len());
    if threads <= 1 {
        let mut sink = sink;
        items.iter().for_each(|item| sink(f(item)));
        return;
    }
    let next = AtomicUsize::new(0);
    let order = Reorder {
        waiting: Mutex::new(BTreeMap::new()),
        sink: Mutex::new((0, sink)),
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            break;
                        };
                        order.put(index, f(item));
                    }
                })
            })
            .collect();
        for worker in workers {
            // A panic is a bug: let it surface as one.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    // Every worker has looked for results left behind; should one still wait, it goes now.
    order.hand_on();
}

/// Drops `value` on a thread of its own, so that the caller goes on at once: for what a large
/// run leaves behind (its model, its indexes), whose many small allocations take milliseconds
/// to free while the output waits. The thread is not waited for; a process that ends first
/// simply ends. Where no thread can be started, `value` is dropped here.
pub fn drop_aside<T: Send + 'static>(value: T) {
    // On failure the closure, and `value` with it, is dropped here.
    let _ = std::thread::Builder::new()
        .name("kdrender-drop".into())
        .spawn(move || drop(value));
}

/// Results waiting for those before them, and the sink they go to once in order, with the
/// index of the next result it takes. The two locks are apart so that leaving a result never
/// waits for the sink.
struct Reorder<R, S> {
    waiting: Mutex<BTreeMap<usize, R>>,
    sink: Mutex<(usize, S)>,
}

impl<R, S: FnMut(R)> Reorder<R, S> {
    /// Leaves `result`, then hands on every result now in order, unless another worker is
    /// doing so: that one looks for results left meanwhile once it lets go of the sink, so none
    /// is left behind.
    fn put(&self, index: usize, result: R) {
        self.lock_waiting().insert(index, result);
        self.hand_on();
    }

    /// Hands on every result now in order, unless another worker is doing so.
    fn hand_on(&self) {
        loop {
            let mut sink = match self.sink.try_lock() {
                Ok(sink) => sink,
                // Busy: its holder hands this result on. Poisoned: the panic surfaces on join.
                Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => return,
            };
            let (next, hand_on) = &mut *sink;
            loop {
                let Some(result) = self.lock_waiting().remove(next) else {
                    break;
                };
                hand_on(result);
                *next = next.saturating_add(1);
            }
            let next = *next;
            drop(sink);
            // A result put while the sink was held, by a worker that then went on.
            if !self.lock_waiting().contains_key(&next) {
                return;
            }
        }
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, BTreeMap<usize, R>> {
        // Held only to insert or remove; a panic there is a bug that surfaces on join.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<u64> = (0..1000).collect();
        let squares = super::map(&items, |n| {
            // Uneven work, so that workers finish out of order.
            std::thread::sleep(std::time::Duration::from_micros(n % 7));
            n * n
        });
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn hands_results_on_in_input_order_without_collecting_them() {
        let items: Vec<u64> = (0..1000).collect();
        let mut seen = Vec::new();
        let mut most_waiting = 0;
        let waiting = std::sync::atomic::AtomicUsize::new(0);
        super::for_each_in_order(
            &items,
            |n| {
                std::thread::sleep(std::time::Duration::from_micros(n % 7));
                waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                n * n
            },
            |square| {
                let done = waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                most_waiting = most_waiting.max(done);
                seen.push(square);
            },
        );
        assert_eq!(seen, items.iter().map(|n| n * n).collect::<Vec<_>>());
        // Results reach the sink while others are still being made, not all at the end.
        assert!(most_waiting < items.len(), "{most_waiting}");
    }

    #[test]
    fn results_left_while_the_sink_is_busy_are_all_handed_on_in_order() {
        // A slow sink and fast work: workers find the sink taken most of the time, leave their
        // results and go on, and the sink's holder must hand on every one of them.
        let items: Vec<u64> = (0..2000).collect();
        let mut seen = Vec::new();
        super::for_each_in_order(
            &items,
            |n| n * 3,
            |tripled| {
                if tripled % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                seen.push(tripled);
            },
        );
        assert_eq!(seen, items.iter().map(|n| n * 3).collect::<Vec<_>>());
    }

    #[test]
    fn a_value_dropped_aside_is_dropped() {
        struct Signal(std::sync::mpsc::Sender<()>);
        impl Drop for Signal {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (sender, dropped) = std::sync::mpsc::channel();
        super::drop_aside(Signal(sender));
        assert_eq!(
            dropped.recv_timeout(std::time::Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn an_owned_item_is_freed_once_its_result_is_made_and_results_keep_input_order() {
        let shared = std::sync::Arc::new(());
        let items: Vec<(u64, std::sync::Arc<()>)> = (0..1000)
            .map(|n| (n, std::sync::Arc::clone(&shared)))
            .collect();
        let results = super::map_owned(items, |(n, item)| {
            std::thread::sleep(std::time::Duration::from_micros(n % 7));
            // The items still alive: those not yet taken, and this one (the test holds one more).
            (n, std::sync::Arc::strong_count(&item))
        });
        let order: Vec<u64> = results.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
        // By the last items, those before them are gone: a map that held every item to the end
        // would count all 1000 alive each time.
        let fewest_alive = results.iter().map(|(_, alive)| *alive).min();
        assert!(
            fewest_alive <= Some(1 + super::MAX_THREADS + 1),
            "{fewest_alive:?}"
        );
        assert_eq!(std::sync::Arc::strong_count(&shared), 1);
    }
}
