"""Every answer is right, but set_first and add_at each keep 0.6 GiB in a global they never free,
and mean_of_list, the last exercise, needs 0.8 GiB for a moment: together over the 2 GiB cap, each
alone well under it. The step that runs out of memory after others in the same process is run again
first in a fresh one, so nothing is lost (under an address-space limit, which counts address space,
not pages, all fit). Each step takes at most 0.8 GiB: filling new pages costs CPU (about 3 s a GiB
on a freshly started machine), and no step here may meet the CPU bound for it."""
BASE = "solution"
EXPECTED = 15

_reference_set_first = set_first  # noqa: F821 - the base's, which this file is appended to
_reference_add_at = add_at  # noqa: F821
_reference_mean_of_list = mean_of_list  # noqa: F821
_kept = {}


def _hold(name, mib):
    if name not in _kept:
        block = bytearray(mib << 20)
        block[::4096] = b"\1" * len(block[::4096])  # every page written: memory held, not promised
        _kept[name] = block


def set_first(x, value):
    _hold("set_first", 600)
    return _reference_set_first(x, value)


def add_at(x, i, v):
    _hold("add_at", 600)
    return _reference_add_at(x, i, v)


def mean_of_list(values):
    scratch = bytearray(800 << 20)
    scratch[::4096] = b"\1" * len(scratch[::4096])
    del scratch
    return _reference_mean_of_list(values)
