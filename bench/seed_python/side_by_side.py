#!/usr/bin/python3
"""Runs the seed article's two Python programs and grove's two examples with the same sizes, in
one run on one machine, and prints (or writes into docs/benchmarks.md) the side-by-side table.

  bench/seed_python/side_by_side.py [--build build/release] [--write docs/benchmarks.md]

The Python side needs Debian's python3-numpy, python3-trio and libopenblas0-pthread (NumPy's
BLAS; run with OPENBLAS_NUM_THREADS=1 as the article's threads assume); the script names what
is missing and stops. The grove side needs a release build with the examples and benchmarks
(cmake --workflow --preset release). Nothing else in grove needs any of this.
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, where python3-numpy and python3-trio install
PACKAGES = ["python3-numpy", "python3-trio", "libopenblas0-pthread"]
BEGIN = "<!-- side_by_side.py: begin -->"
END = "<!-- side_by_side.py: end -->"


def missing_packages():
    missing = []
    for package in PACKAGES:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True).stdout
        if status != "install ok installed":
            missing.append(package)
    return missing


def run_json(command, env=None):
    print("running:", " ".join(shlex.quote(c) for c in command), file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release", help="grove's release build folder")
    parser.add_argument("--threads", type=int, default=2, help="threads / workers on both sides")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (medians)")
    parser.add_argument("--write", metavar="MARKDOWN",
                        help=f"replace the part of this file between {BEGIN} and {END}")
    args = parser.parse_args()

    missing = missing_packages()
    if missing:
        sys.exit("side_by_side.py: the article's programs need Debian packages that are missing: "
                 f"{' '.join(missing)}\n  apt-get install -y {' '.join(missing)}")
    examples = os.path.join(args.build, "examples")
    programs = {name: os.path.join(examples, name)
                for name in ("matmul_threads", "matmul_threads_openblas", "chunked_pipeline")}
    programs["pipeline_kernel_bench"] = os.path.join(args.build, "bench", "pipeline_kernel_bench")
    absent = [p for p in programs.values() if not os.access(p, os.X_OK)]
    if absent:
        sys.exit(f"side_by_side.py: build these first (cmake --workflow --preset release): {absent}")

    one_blas_thread = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    matmul_flags = [f"--size={args.size}", f"--products={args.products}",
                    f"--repeat={args.repeat}"]
    pipeline_flags = [f"--n={args.n}", f"--chunks={args.chunks}"]
    numpy = run_json([PYTHON, os.path.join(HERE, "matmul_threads.py"),
                      f"--threads={args.threads}", *matmul_flags], env=one_blas_thread)
    eigen = run_json([programs["matmul_threads"], *matmul_flags,
                      f"--max-workers={args.threads}", "--json"])
    openblas = run_json([programs["matmul_threads_openblas"], *matmul_flags,
                         f"--max-workers={args.threads}", "--json"])
    trio = run_json([PYTHON, os.path.join(HERE, "trio_pipeline.py"), *pipeline_flags])
    grove_pipeline = run_json([programs["chunked_pipeline"], *pipeline_flags,
                               f"--workers={args.threads}", f"--repeat={args.repeat}", "--json"])
    kernel_run = run_json([programs["pipeline_kernel_bench"], "--benchmark_format=json",
                           "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"])
    kernel = {b["run_name"].split("/")[0]: b["ns_per_element"]
              for b in kernel_run["benchmarks"] if b["aggregate_name"] == "median"}

    def row_at(table, workers):
        return next(r for r in table["rows"] if r["workers"] == workers)

    products = args.products
    lines = []
    lines.append(f"Taken on {cpu_model()}, {os.cpu_count()} cores, with `{' '.join(sys.argv)}`:")
    lines.append(f"{products} products of {args.size}² and the pipeline with N = {args.n}, "
                 f"{args.chunks} chunks; {args.threads} threads (Python) and {args.threads} "
                 "workers (grove); medians of "
                 f"{args.repeat} runs except the trio program's single run.")
    lines.append("")
    lines.append("| program | the article's Python | grove | grove's time / Python's | target | met? |")
    lines.append("|---|---|---|---|---|---|")
    numpy_s = numpy["seconds"]
    for label, table in (("Eigen's kernels", eigen), ("serial OpenBLAS", openblas)):
        grove_s = row_at(table, args.threads)["grove_s"] * products
        ratio = grove_s / numpy_s
        lines.append(f"| {products} matmuls on {args.threads} threads: `matmul_threads"
                     f"{'_openblas' if table is openblas else ''}` ({label}) | "
                     f"{numpy_s * 1000:.0f} ms | {grove_s * 1000:.0f} ms | **{ratio:.2f}** | "
                     f"≤ 1.05 | {'yes' if ratio <= 1.05 else 'no'} |")
    for label, table in (("Eigen", eigen), ("OpenBLAS", openblas)):
        speedup = row_at(table, 1)["grove_s"] / row_at(table, args.threads)["grove_s"]
        lines.append(f"| matmul speedup 1 → {args.threads} workers ({label}) | — | "
                     f"{speedup:.2f}× | — | ≥ 1.95× | {'yes' if speedup >= 1.95 else 'no'} |")
    speedup = trio["seconds"] / grove_pipeline["seconds"]
    lines.append(f"| trio pipeline: `chunked_pipeline` | {trio['seconds']:.2f} s | "
                 f"{grove_pipeline['seconds']:.3g} s | **{1 / speedup:.3f}** ({speedup:.0f}× faster) | ≥ 10× faster | "
                 f"{'yes' if speedup >= 10 else 'no'} |")
    bound = max(kernel["BM_generator_only"], kernel["BM_multiply_add_only"])
    bound_name = ("the generator" if kernel["BM_generator_only"] >= kernel["BM_multiply_add_only"]
                  else "the multiply-adds")
    lines.append(f"| pipeline kernel, ns per element on one core, against its bound ({bound_name}; "
                 f"the generator alone: {kernel['BM_generator_only']:.3f}, the multiply-adds alone: "
                 f"{kernel['BM_multiply_add_only']:.3f}) | — | "
                 f"{kernel['BM_pipeline_kernel']:.3f} | {kernel['BM_pipeline_kernel'] / bound:.2f}"
                 f" of the bound | ≤ 1.5 | "
                 f"{'yes' if kernel['BM_pipeline_kernel'] <= 1.5 * bound else 'no'} |")
    lines.append("")
    same_total = abs(trio["total"] - grove_pipeline["total"]) / grove_pipeline["total"]
    lines.append(f"Pipeline totals: trio {trio['total']:.6g}, grove {grove_pipeline['total']:.6g} "
                 f"(different generators, the same distribution: they differ by "
                 f"{same_total * 100:.3f} %).")
    lines.append(f"NumPy's BLAS: {', '.join(numpy['blas'])} with OPENBLAS_NUM_THREADS="
                 f"{numpy['openblas_num_threads']}.")
    lines.append(f"`matmul_threads`: {eigen['blas']}.")
    lines.append(f"`matmul_threads_openblas`: {openblas['blas']}.")
    lines.append(f"`chunked_pipeline`: {grove_pipeline['kernels']}.")
    table = "\n".join(lines)
    print(table)

    if args.write:
        text = open(args.write, encoding="utf-8").read()
        if BEGIN not in text or END not in text:
            sys.exit(f"side_by_side.py: {args.write} has no {BEGIN} ... {END} section")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(args.write, "w", encoding="utf-8") as out:
            out.write(f"{head}{BEGIN}\n{table}\n{END}{tail}")
        print(f"written into {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
