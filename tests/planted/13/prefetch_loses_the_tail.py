"""prefetch_to_device stops when the iterator ends, leaving the last `size` batches in its deque."""
MUST_FAIL = ["test_prefetch_yields_every_batch_on_the_device"]
MUST_SAY = {"test_prefetch_yields_every_batch_on_the_device": ["still in the deque"]}


def prefetch_to_device(iterator, size=2):
    queue = collections.deque()
    for batch in iterator:
        queue.append(jax.device_put(batch))
        if len(queue) > size:
            yield queue.popleft()
