"""set_first prints 30 MB and tries to write a 300 MB file before answering right: full marks."""
BASE = "solution"
EXPECTED = 15
_set_first = set_first


def set_first(x, value):
    print("x" * (30 << 20))
    try:
        with open("big.bin", "wb") as f:
            for _ in range(300):
                f.write(b"\0" * (1 << 20))
    except OSError:
        pass
    return _set_first(x, value)
