"""prefetch_to_device sends the whole iterator to the device before yielding anything."""
MUST_FAIL = ["test_prefetch_runs_ahead_of_the_consumer"]
MUST_SAY = {"test_prefetch_runs_ahead_of_the_consumer": ["Taking every batch first"]}
MUST_PASS = ["test_prefetch_yields_every_batch_on_the_device"]


def prefetch_to_device(iterator, size=2):
    queue = collections.deque(jax.device_put(batch) for batch in iterator)
    while queue:
        yield queue.popleft()
