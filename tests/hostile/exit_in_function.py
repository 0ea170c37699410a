"""set_first calls sys.exit(0); everything else is right."""
BASE = "solution"
EXPECTED = 14


def set_first(x, value):
    import sys
    sys.exit(0)
