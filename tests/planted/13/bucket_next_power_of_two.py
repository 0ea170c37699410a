"""bucket_size ignores the buckets and rounds n up to a power of two: more programs than buckets, and no
error past the largest."""
MUST_FAIL = ["test_bucket_size", "test_buckets_bound_the_compiles"]
MUST_SAY = {"test_buckets_bound_the_compiles": ["only len(buckets) shapes"]}


def bucket_size(n, buckets):
    return 1 << (n - 1).bit_length()
