"""What the examples' check scripts share: running a program and stopping on its failure."""
import subprocess
import sys


def run(args, timeout=300):
    """Runs args; returns its stdout, or exits naming the command and showing its output."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout
