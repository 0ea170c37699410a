"""Right answers that print and warn on every call: full marks."""
BASE = "solution"
EXPECTED = 15
import sys
import warnings

warnings.warn("this module is noisy")
print("importing...", file=sys.stderr)
_set_first = set_first


def set_first(x, value):
    print("set_first called with", x)
    warnings.warn("set_first is deprecated", DeprecationWarning)
    warnings.warn("and a UserWarning too")
    return _set_first(x, value)
