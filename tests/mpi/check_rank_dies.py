#!/usr/bin/env python3
"""A rank that dies ends the MPI job: mpiexec fails, names the rank, and no rank reports a
complete result. usage: check_rank_dies.py MPIEXEC RANK_DIES

Open MPI names the rank in one of two ways: "process rank 1 ... exited on signal" when the rank
died of the signal, or "Process name: [[job,1],1]" with its exit status when a handler made it
exit instead (ThreadSanitizer's, which reports Open MPI's own abort handler)."""
import re
import subprocess
import sys

mpiexec, program = sys.argv[1:3]
done = subprocess.run([mpiexec, "-n", "2", "--oversubscribe", program], capture_output=True,
                      text=True, timeout=120)
output = done.stdout + done.stderr
if done.returncode == 0:
    sys.exit(f"the job succeeded although rank 1 aborted:\n{output}")
if "complete" in done.stdout:
    sys.exit(f"a rank reported a complete result:\n{output}")
if "rank 1" not in output and not re.search(r"Process name: \[\[\d+,\d+\],1\]", output):
    sys.exit(f"mpiexec's message does not name rank 1:\n{output}")
print(f"mpiexec failed ({done.returncode}) and named rank 1; no rank reported a result")
