"""scale_row allocates memory until it can't; everything else is right."""
BASE = "solution"
EXPECTED = 14


def scale_row(m, row, factor):
    hoard = []
    while True:
        hoard.append(bytearray(256 << 20))
