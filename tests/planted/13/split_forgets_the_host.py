"""split_step_times counts the three spans inside each step and calls the rest nothing."""
MUST_FAIL = ["test_split_step_times"]
MUST_SAY = {"test_split_step_times": ["between one step's done and the next step's asked"]}


def split_step_times(times):
    t = np.asarray(times, np.float64)
    spans = np.diff(t, axis=1).sum(axis=0)
    return {"data": float(spans[0]), "transfer": float(spans[1]), "compute": float(spans[2]), "host": 0.0}
