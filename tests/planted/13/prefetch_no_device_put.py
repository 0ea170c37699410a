"""prefetch_to_device keeps batches ahead in its deque but never puts them on the device."""
MUST_FAIL = ["test_prefetch_yields_every_batch_on_the_device"]
MUST_SAY = {"test_prefetch_yields_every_batch_on_the_device": ["jax.device_put(batch)"]}
MUST_PASS = ["test_prefetch_runs_ahead_of_the_consumer"]


def prefetch_to_device(iterator, size=2):
    queue = collections.deque()
    for batch in iterator:
        queue.append(batch)
        if len(queue) > size:
            yield queue.popleft()
    while queue:
        yield queue.popleft()
