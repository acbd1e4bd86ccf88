#!/usr/bin/env python3
"""mpi_pipeline's total equals chunked_pipeline's for the same flags, run as one process without
mpirun, and under mpiexec with 2 ranks (oversubscribed), and the per-rank lines add up.

usage: check_mpi_total.py MPIEXEC MPI_PIPELINE CHUNKED_PIPELINE
"""
import re
import sys

from example_checks import run

FLAGS = ["--n", "300", "--chunks", "7", "--workers", "2"]


def total(output):
    found = re.findall(r"^total: (\S+)$", output, re.MULTILINE)
    if len(found) != 1:
        sys.exit(f"expected one 'total:' line in:\n{output}")
    return found[0]


def main():
    mpiexec, mpi_pipeline, chunked_pipeline = sys.argv[1:4]
    expected = total(run([chunked_pipeline, *FLAGS, "--repeat", "1"]))
    for command, ranks in (([mpi_pipeline, *FLAGS], 1),
                           ([mpiexec, "-n", "2", "--oversubscribe", mpi_pipeline, *FLAGS], 2)):
        output = run(command)
        got = total(output)
        if got != expected:
            sys.exit(f"{ranks} rank(s): total {got}, chunked_pipeline's is {expected}:\n{output}")
        shares = [int(c) for c in re.findall(r"^  rank \d+: (\d+) chunks", output, re.MULTILINE)]
        if len(shares) != ranks or sum(shares) != 7:
            sys.exit(f"{ranks} rank(s): per-rank chunk counts {shares} do not add up to 7:\n{output}")
        print(f"{ranks} rank(s): total {got} = chunked_pipeline's; chunks per rank {shares}")


main()
