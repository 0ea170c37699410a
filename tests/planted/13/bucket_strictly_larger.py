"""bucket_size asks for a bucket strictly larger than n: a batch of exactly a bucket's size goes to the
next bucket, and a batch the size of the largest bucket fits none."""
MUST_FAIL = ["test_bucket_size"]
MUST_SAY = {"test_bucket_size": ["b >= n, not b > n"]}


def bucket_size(n, buckets):
    fits = [b for b in buckets if b > n]
    if not fits:
        raise ValueError(f"{n} rows fit in no bucket")
    return min(fits)
