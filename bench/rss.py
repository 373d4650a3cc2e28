#!/usr/bin/env python3
"""A command's resident memory over time: when its peak is reached, and in which phase.

    python3 bench/rss.py [--rows N] -- COMMAND [ARGS...]

Samples VmRSS and the thread count from /proc every 2 ms while COMMAND runs (its output is
discarded) and prints about N rows (default 30), then the peak. kdrender's phases show in the
thread count: one thread while it reads the inputs, the workers while it parses and judges them,
the template workers once it renders. Peak memory is a high-water mark (freed memory stays with
the allocator's arenas), so the phase in which the peak is first reached is the one to shrink:
see BENCHMARKS.md, "Eleventh round". Linux only; the sampling itself costs the command some speed,
so read memory here and time elsewhere.
"""
import argparse
import subprocess
import sys
import time


def status(pid):
    """(resident KiB, threads) of a running process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["Threads"])
    except (OSError, KeyError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the command to measure after --")
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    while process.poll() is None:
        sample = status(process.pid)
        if sample:
            samples.append((time.perf_counter() - start, *sample))
        time.sleep(0.002)
    if not samples:
        sys.exit("the command ended before it could be sampled")
    step = max(1, len(samples) // max(1, options.rows))
    for seconds, kib, threads in samples[::step]:
        print(f"{seconds * 1000:7.0f} ms {kib / 1024:7.1f} MiB  {threads} thread(s)")
    peak = max(samples, key=lambda s: s[1])
    print(f"peak {peak[1] / 1024:.1f} MiB, first reached at {peak[0] * 1000:.0f} ms "
          f"with {peak[2]} thread(s); exit status {process.returncode}")


if __name__ == "__main__":
    main()
