"""Every function returns an object that claims to equal anything."""
BASE = "stub"
EXPECTED = 0


class _Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array__(self, dtype=None, copy=None):
        raise TypeError("no")

    shape = property(lambda self: (6,))
    dtype = property(lambda self: jnp.float32)


def set_first(x, value):
    return _Anything()


def add_at(x, i, v):
    return _Anything()


def scale_row(m, row, factor):
    return _Anything()


def swap(x, i, j):
    return _Anything()
