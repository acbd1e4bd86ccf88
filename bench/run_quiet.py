#!/usr/bin/env python3
"""Runs one benchmark command when the machine is quiet and reruns it if other processes used
CPU meanwhile: on a 2-core machine a compiler running beside a 2-worker benchmark halves it.

Usage: bench/run_quiet.py build/release/bench/fork_join_bench --benchmark_repetitions=3 ...
Prints, on stderr, one line per attempt with the CPU time other processes took during it.
"""
import os
import resource
import subprocess
import sys
import time

QUIET_SECONDS = 5        # seconds of < 5% system CPU before a run starts
MAX_OTHER_SHARE = 0.05   # accept a run when others used < 5% of one core during it
MAX_ATTEMPTS = 40


def busy_seconds():
    fields = list(map(int, open('/proc/stat').readline().split()[1:]))
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf('SC_CLK_TCK')


def wait_until_quiet():
    quiet = 0
    while quiet < QUIET_SECONDS:
        before = busy_seconds()
        time.sleep(1)
        quiet = quiet + 1 if busy_seconds() - before < 0.05 else 0


def main():
    command = sys.argv[1:]
    if not command:
        sys.exit(__doc__)
    for attempt in range(MAX_ATTEMPTS):
        wait_until_quiet()
        b0, r0, t0 = busy_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
        done = subprocess.run(command, capture_output=True, text=True)
        b1, r1, t1 = busy_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
        ours = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        others = (b1 - b0) - ours
        wall = t1 - t0
        print(f"# attempt {attempt}: wall {wall:.1f} s, benchmark CPU {ours:.1f} s, "
              f"other processes {others:.1f} s ({100 * others / wall:.0f}% of one core)",
              file=sys.stderr, flush=True)
        if others / wall < MAX_OTHER_SHARE or attempt == MAX_ATTEMPTS - 1:
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            sys.exit(done.returncode)


if __name__ == '__main__':
    main()
