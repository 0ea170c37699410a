"""time_step stops the clock as soon as the step returns: it times the dispatch, not the computation."""
MUST_FAIL = ["test_time_step_waits_for_the_device_before_reading_the_clock"]
MUST_SAY = {"test_time_step_waits_for_the_device_before_reading_the_clock": ["without waiting for the output"]}
MUST_PASS = ["test_time_step_returns_the_output_and_seconds"]


def time_step(step, *args, clock=time.perf_counter):
    start = clock()
    output = step(*args)
    return output, clock() - start
