#!/usr/bin/env python3
"""Two builds of kdrender against each other, call by call.

    bench/ab.py BEFORE AFTER            # one cluster, 1000 clusters, diff of 1000 clusters
    bench/ab.py BEFORE AFTER --rounds 2 # the whole comparison twice

bench/run.py times one build and then the other; on a VM whose speed drifts by a tenth or more
between runs, that drift can hide a change or invent one. Here the two builds alternate call by
call (the order flipping every call), so that both see the same machine, and the medians are
compared; each round also puts each build's diff against its own render of 1000 clusters. The one-cluster case also times `AFTER --version` for the ratio to the process's own
start. Every call is a whole process started from Python, which adds its own start (about a
millisecond) to every figure alike: read the percentages, and bench/run.py or hyperfine for
absolute times.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import commit_and_change  # noqa: E402  (bench/ is not a package)


def generate(n, directory):
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "kdrender", str(n), directory], check=True)


def timed(argv, cwd):
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare(before, after, name, argv, cwd, calls):
    times = {before: [], after: []}
    for call in range(calls):
        for binary in (before, after) if call % 2 == 0 else (after, before):
            times[binary].append(timed([binary, *argv], cwd))
    b, a = statistics.median(times[before]), statistics.median(times[after])
    line = f"{name}: before {b * 1000:.1f} ms, after {a * 1000:.1f} ms ({(a / b - 1) * 100:+.1f}%)"
    if name == "one cluster":
        version = statistics.median(timed([after, "--version"], cwd) for _ in range(calls))
        line += f"; `--version` {version * 1000:.2f} ms: before {b / version:.2f}x, after {a / version:.2f}x"
    print(line, flush=True)
    return b, a


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args()
    before, after, rounds = os.path.abspath(options.before), os.path.abspath(options.after), options.rounds
    work = tempfile.mkdtemp(prefix="kdrender-ab-")
    try:
        one, thousand, changed = (os.path.join(work, d) for d in ("1", "1000", "diff"))
        generate(1, one)
        generate(1000, thousand)
        generate(1000, changed)
        commit_and_change(changed)
        for _ in range(rounds):
            compare(before, after, "one cluster", ["render", "."], one, 300)
            rendered = compare(before, after, "1000 clusters", ["render", "."], thousand, 20)
            diffed = compare(before, after, "diff of 1000 clusters", ["diff", "."], changed, 8)
            print(f"diff of 1000 against a render of 1000, this round: before {diffed[0] / rendered[0]:.2f}x, "
                  f"after {diffed[1] / rendered[1]:.2f}x (target <= 2.5x)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
