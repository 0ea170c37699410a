"""time_step blocks on the output, but only after reading the clock."""
MUST_FAIL = ["test_time_step_waits_for_the_device_before_reading_the_clock"]
MUST_SAY = {"test_time_step_waits_for_the_device_before_reading_the_clock": ["before the output was ready"]}
MUST_PASS = ["test_time_step_returns_the_output_and_seconds"]


def time_step(step, *args, clock=time.perf_counter):
    start = clock()
    output = step(*args)
    seconds = clock() - start
    return jax.block_until_ready(output), seconds
