//! A parallel map that keeps the input order, for rendering clusters on every core.
//!
//! Workers take the next index from a shared counter, so a slow cluster does not hold up a whole
//! chunk; results are put back in input order, so the output never depends on scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Upper bound on worker threads; rendering is CPU-bound and Argo CD runs many renders at once.
const MAX_THREADS: usize = 8;
/// Below this many items, starting threads (and the allocator arenas they bring) costs more
/// than it saves.
const MIN_ITEMS: usize = 8;

pub fn map<I: Sync, R: Send>(items: &[I], f: impl Fn(&I) -> R + Sync) -> Vec<R> {
    // Asking for the core count reads cgroup files: not worth it for a small repository.
    let threads = if items.len() < MIN_ITEMS {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
            .min(items.len())
    };
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
}
