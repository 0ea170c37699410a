"""Every answer is right, but set_first keeps 1.2 GiB in a global it never frees, and mean_of_list,
the last exercise, needs 0.9 GiB for a moment: together over the 2 GiB cap, each alone well under it.
The step that runs out of memory after others in the same process is run again first in a fresh
one, so nothing is lost (under an address-space limit, which counts address space, not pages, both fit)."""
BASE = "solution"
EXPECTED = 15

_reference_set_first = set_first  # noqa: F821 - the base's, which this file is appended to
_reference_mean_of_list = mean_of_list  # noqa: F821
_kept = []


def set_first(x, value):
    if not _kept:
        block = bytearray(1200 << 20)
        block[::4096] = b"\1" * len(block[::4096])  # every page written: memory held, not promised
        _kept.append(block)
    return _reference_set_first(x, value)


def mean_of_list(values):
    scratch = bytearray(900 << 20)
    scratch[::4096] = b"\1" * len(scratch[::4096])
    del scratch
    return _reference_mean_of_list(values)
