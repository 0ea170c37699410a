"""prefetch_to_device puts each batch on the device only when it is asked for: no batch is ever ahead."""
MUST_FAIL = ["test_prefetch_runs_ahead_of_the_consumer"]
MUST_SAY = {"test_prefetch_runs_ahead_of_the_consumer": ["taking one at a time"]}
MUST_PASS = ["test_prefetch_yields_every_batch_on_the_device"]


def prefetch_to_device(iterator, size=2):
    for batch in iterator:
        yield jax.device_put(batch)
