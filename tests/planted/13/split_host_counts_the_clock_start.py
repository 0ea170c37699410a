"""split_step_times adds the first step's asked to the host time, as if the loop had run since the clock
read 0: with perf_counter that is whatever the clock read when the loop began."""
MUST_FAIL = ["test_split_step_times"]
MUST_SAY = {"test_split_step_times": ["before the first asked"]}


def split_step_times(times):
    t = np.asarray(times, np.float64)
    spans = np.diff(t, axis=1).sum(axis=0)
    return {"data": float(spans[0]), "transfer": float(spans[1]), "compute": float(spans[2]),
            "host": float(np.sum(t[1:, 0] - t[:-1, 3]) + t[0, 0])}
