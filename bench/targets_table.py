#!/usr/bin/env python3
"""Runs the benchmarks behind the project's open performance targets and writes their table.

Each program runs through bench/run_quiet.py (rerun while other processes take CPU), with Google
Benchmark's JSON output; every figure is the median of the program's repetitions, and every
ratio compares grove with its peer from the same process run. With --write FILE the table
replaces the part of FILE between the markers below; otherwise it goes to stdout.

Usage: bench/targets_table.py [--build build/release] [--write docs/benchmarks.md]
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys

BEGIN = "<!-- targets_table.py: begin -->"
END = "<!-- targets_table.py: end -->"
HERE = os.path.dirname(os.path.abspath(__file__))

# (program, filter, repetitions). Every program interleaves the repetitions of grove and its peer
# in random order, so that a host whose speed drifts over seconds (a loaded virtual machine)
# moves both sides of a ratio alike.
RUNS = [
    ("fork_join_bench", "fib_(grove|tbb)/30/", 5),
    ("irregular_bench", "(nqueens|uts)_(grove|tbb)/", 5),
    ("suspend_bench", "grove_cancel|throw_catch", 3),
    ("channel_bench", "channel_(grove|boost_fiber)/64/2|mutex_contended_(grove|boost_fiber)/2", 3),
    ("algorithm_bench", "matmul_(sequential|grove|tbb)", 5),
]


def run_program(build, program, bench_filter, repetitions):
    command = [os.path.join(HERE, "run_quiet.py"), os.path.join(build, "bench", program),
               f"--benchmark_filter={bench_filter}", "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}",
               "--benchmark_enable_random_interleaving=true",
               "--benchmark_report_aggregates_only=true"]
    print("running:", " ".join(shlex.quote(c) for c in command), file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    medians = {}
    for bench in json.loads(done.stdout)["benchmarks"]:
        if bench.get("aggregate_name") == "median":
            medians[bench["run_name"]] = bench
    return medians


def find(results, prefix):
    """The one median whose name starts with `prefix` (names carry /iterations:… suffixes)."""
    hits = [b for name, b in results.items() if name.startswith(prefix)]
    if len(hits) != 1:
        sys.exit(f"expected one benchmark named {prefix}…, found {len(hits)}")
    return hits[0]


def ms(bench):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[bench["time_unit"]]
    return bench["real_time"] * scale


def machine():
    model = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    family = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("cpu family")), "?")
    return f"{model} (family {family}), {os.cpu_count()} CPUs, kernel {platform.release()}"


def commit():
    done = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def verdict(ok):
    return "yes" if ok else "**no**"


def table(r):
    rows = []

    def add(what, workers, grove, peer, ratio, target, met):
        rows.append(f"| {what} | {workers} | {grove} | {peer} | {ratio} | {target} | {met} |")

    for w in (1, 2):
        g, t = find(r, f"BM_fib_grove/30/{w}/"), find(r, f"BM_fib_tbb/30/{w}/")
        target = 36 if w == 1 else 19
        add("fib(30), ns per spawned task", w, f"{g['ns_per_task']:.1f}",
            f"oneTBB {t['ns_per_task']:.1f}", f"{g['ns_per_task'] / t['ns_per_task']:.2f}",
            f"≤ libfork's {target}", verdict(g["ns_per_task"] <= target))
    speedup = ms(find(r, "BM_fib_grove/30/1/")) / ms(find(r, "BM_fib_grove/30/2/"))
    tbb_speedup = ms(find(r, "BM_fib_tbb/30/1/")) / ms(find(r, "BM_fib_tbb/30/2/"))
    add("fib(30) speedup 1 → 2 workers", "", f"{speedup:.2f}", f"oneTBB {tbb_speedup:.2f}", "—",
        "≥ 1.95", verdict(speedup >= 1.95))
    for name, label in (("nqueens", "nqueens(11), task per valid column"),
                        ("uts", "UTS binomial tree, 2.86 M nodes")):
        for w in (1, 2):
            g, t = ms(find(r, f"BM_{name}_grove/{w}/")), ms(find(r, f"BM_{name}_tbb/{w}/"))
            target = "≤ 1.0" if w == 2 else "—"
            add(label, w, f"{g:.1f} ms", f"oneTBB {t:.1f} ms", f"{g / t:.2f}", target,
                verdict(g / t <= 1.0) if w == 2 else "—")
    floor = find(r, "BM_throw_catch_cancelled")["us_per_throw"]
    for w in (1, 2):
        c = find(r, f"BM_grove_cancel_sleeping_100k/{w}/")
        per_task = c["release_to_join_ms"] * 1e3 / 100_000
        if w == 1:
            target, met = "≤ 2 µs per task", verdict(per_task <= 2.0)
        else:
            target, met = "≤ 100 ms", verdict(c["release_to_join_ms"] <= 100)
        add("cancel 100 000 sleepers → all joined", w,
            f"{c['release_to_join_ms']:.0f} ms ({per_task:.2f} µs/task; walk "
            f"{c['release_call_ms']:.1f} ms)",
            f"one throw+catch of `cancelled`: {floor:.2f} µs", f"{per_task / floor:.2f} throws",
            target, met)
    g, b = find(r, "BM_channel_grove/64/2/"), find(r, "BM_channel_boost_fiber/64/2/")
    add("channel, capacity 64, items/s", 2, f"{g['items_per_second'] / 1e6:.1f} M/s",
        f"Boost.Fiber {b['items_per_second'] / 1e6:.1f} M/s",
        f"{g['items_per_second'] / b['items_per_second']:.2f}", "≥ 1.0",
        verdict(g["items_per_second"] >= b["items_per_second"]))
    g, b = find(r, "BM_mutex_contended_grove/2/"), find(r, "BM_mutex_contended_boost_fiber/2/")
    add("contended mutex, 4 tasks, locks/s", 2, f"{g['items_per_second'] / 1e6:.2f} M/s",
        f"Boost.Fiber {b['items_per_second'] / 1e6:.2f} M/s",
        f"{g['items_per_second'] / b['items_per_second']:.2f}", "≥ 1.0 (FIFO hand-off)",
        verdict(g["items_per_second"] >= b["items_per_second"]))
    seq = ms(find(r, "BM_matmul_sequential"))
    g, t = ms(find(r, "BM_matmul_grove")), ms(find(r, "BM_matmul_tbb"))
    add("seed matmul 10 × 1000², speedup over sequential", 2, f"{seq / g:.2f}× ({g:.0f} ms)",
        f"oneTBB {seq / t:.2f}× ({t:.0f} ms)", f"{g / t:.2f}", "≥ 1.95×",
        verdict(seq / g >= 1.95))
    head = ("| row | workers | grove | peer (same run) | grove / peer | target | met? |\n"
            "|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release", help="grove's release build folder")
    parser.add_argument("--write", metavar="FILE", help="replace the table between the markers")
    args = parser.parse_args()
    results = {}
    for program, bench_filter, repetitions in RUNS:
        results.update(run_program(args.build, program, bench_filter, repetitions))
    text = (f"Taken on {datetime.date.today()} with `bench/targets_table.py --write "
            f"docs/benchmarks.md` at commit {commit()}; {machine()}. Medians of each program's "
            "repetitions (5 for fork-join, irregular and matmul, 3 otherwise), grove's and its "
            "peer's interleaved in random order.\n\n"
            + table(results))
    if not args.write:
        print(text)
        return
    with open(args.write) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{args.write} lacks the markers {BEGIN} / {END}")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(args.write, "w") as f:
        f.write(head + BEGIN + "\n" + text + "\n" + END + tail)


if __name__ == "__main__":
    main()
