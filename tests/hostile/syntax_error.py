"""A file Python can't read."""
BASE = "stub"
EXPECTED = 0


def broken(:
    pass
