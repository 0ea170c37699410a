"""bucket_size takes the first bucket that fits, in the order given: with unsorted buckets, a larger
bucket than needed."""
MUST_FAIL = ["test_bucket_size"]
MUST_SAY = {"test_bucket_size": ["not the first that fits"]}


def bucket_size(n, buckets):
    for b in buckets:
        if b >= n:
            return b
    raise ValueError(f"{n} rows fit in no bucket")
