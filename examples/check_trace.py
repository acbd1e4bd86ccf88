#!/usr/bin/env python3
"""Runs chunked_pipeline --trace and checks the file: JSON with a track per worker, one slice
named "chunk" per chunk and run at least, and every task's life begun and ended.

Usage: check_trace.py CHUNKED_PIPELINE OUTPUT.json
"""
import json
import subprocess
import sys

program, path = sys.argv[1], sys.argv[2]
run = subprocess.run([program, "--n=200", "--chunks=6", "--workers=2", "--repeat=1",
                      f"--trace={path}"], capture_output=True, text=True, timeout=120)
if run.returncode != 0 or path not in run.stdout:
    sys.exit(f"chunked_pipeline --trace failed ({run.returncode}):\n{run.stdout}{run.stderr}")
with open(path, encoding="utf-8") as f:
    trace = json.load(f)
events = trace["traceEvents"]
tracks = {e["tid"] for e in events if e["ph"] == "M"}
chunk_slices = [e for e in events if e["ph"] == "X" and e["name"] == "chunk"]
begins = sorted(e["id"] for e in events if e["ph"] == "b")
ends = sorted(e["id"] for e in events if e["ph"] == "e")
problems = []
if not {0, 1} <= tracks:
    problems.append(f"worker tracks missing: {sorted(tracks)}")
if len(chunk_slices) < 6:
    problems.append(f"{len(chunk_slices)} chunk slices, expected at least 6")
if begins != ends or not begins:
    problems.append("task lifetimes do not pair up")
if trace["otherData"]["dropped_events"] != 0:
    problems.append("events were dropped")
if problems:
    sys.exit("bad trace: " + "; ".join(problems))
print(f"trace ok: {len(events)} events, {len(chunk_slices)} chunk slices")
