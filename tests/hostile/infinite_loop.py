"""swap never returns; everything else is right."""
BASE = "solution"
EXPECTED = 13


def swap(x, i, j):
    while True:
        pass
