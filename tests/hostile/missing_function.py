"""swap is gone; everything else is right."""
BASE = "solution"
EXPECTED = 13
del swap
