#!/usr/bin/env python3
"""Checks the examples' --json output: one JSON object on stdout with the documented keys, and
for chunked_pipeline a total equal to the one its text report prints for the same flags.

Usage: check_json_output.py CHUNKED_PIPELINE MATMUL_THREADS [MATMUL_THREADS_OPENBLAS]
"""
import json
import re
import sys

from example_checks import run

problems = []


def parse_json(args):
    out = run(args)
    try:
        return json.loads(out)
    except json.JSONDecodeError as e:
        sys.exit(f"{' '.join(args)}: not one JSON object ({e}):\n{out}")


def require(obj, keys, what):
    missing = [k for k in keys if k not in obj]
    if missing:
        problems.append(f"{what}: missing keys {missing} in {obj}")


pipeline, matmul = sys.argv[1], sys.argv[2]
flags = ["--n=300", "--chunks=5", "--workers=2", "--repeat=1", "--seed=11"]
report = parse_json([pipeline, *flags, "--json"])
require(report, ["n", "chunks", "workers", "total", "seconds"], "chunked_pipeline --json")
text = run([pipeline, *flags])
match = re.search(r"^total: (\S+)$", text, re.MULTILINE)
if match is None:
    problems.append(f"chunked_pipeline printed no total:\n{text}")
elif f"{report['total']:.6f}" != match.group(1):
    problems.append(f"totals differ: --json {report['total']!r}, text {match.group(1)}")
if (report.get("n"), report.get("chunks"), report.get("workers")) != (300, 5, 2):
    problems.append(f"chunked_pipeline --json echoes the wrong settings: {report}")
if not report.get("seconds", 0) > 0:
    problems.append(f"chunked_pipeline --json: no time measured: {report}")

for program in sys.argv[2:]:
    table = parse_json([program, "--size=40", "--products=3", "--max-workers=2", "--repeat=1",
                        "--json"])
    require(table, ["products", "size", "rows"], f"{program} --json")
    rows = table.get("rows", [])
    if [r.get("workers") for r in rows] != [1, 2]:
        problems.append(f"{program} --json: rows for workers 1 and 2 expected: {rows}")
    for r in rows:
        require(r, ["workers", "sequential_s", "grove_s", "tbb_s"], f"{program} row")
        if not all(r.get(k, 0) > 0 for k in ("sequential_s", "grove_s", "tbb_s")):
            problems.append(f"{program} row without a positive time: {r}")
    if (table.get("products"), table.get("size")) != (3, 40):
        problems.append(f"{program} --json echoes the wrong settings: {table}")

if problems:
    sys.exit("\n".join(problems))
print("--json output checked:", ", ".join(sys.argv[1:]))
