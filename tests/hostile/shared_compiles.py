"""Right answers, and at import a go at the compile cache the reference's sandbox filled: list it,
write into it (a program another student would load), make folders and links in it. Any of these that
works fails the import (no points). Where its compiles read nothing from that cache, `mean_of_list`
gives a wrong answer (one point lost), so a run that quietly stopped sharing can't pass for this."""
BASE = "solution"
EXPECTED = 15
import glob as _glob
import os as _os

import jax as _jax

_cache = _os.environ.get("JAX_LESSONS_CACHE", "")
_work = _os.path.dirname(_os.environ.get("HOME", "/"))
_shared = bool(_cache) and _os.path.commonpath([_cache, _work]) != _work
_worked = []


def _attempt(name, action):
    try:
        if action() is not False:
            _worked.append(name)
    except OSError:
        pass


def _write(name):
    with open(_os.path.join(_cache, name), "wb") as f:
        f.write(b"not a program")


if _shared:
    _attempt("listdir", lambda: _os.listdir(_cache))
    _attempt("scandir", lambda: list(_os.scandir(_cache)))
    _attempt("glob", lambda: bool(_glob.glob(_os.path.join(_cache, "*"))))
    _attempt("open the folder", lambda: _os.close(_os.open(_cache, _os.O_RDONLY | _os.O_DIRECTORY)))
    _attempt("write an entry", lambda: _write("jit_swap-" + "0" * 64 + "-cache"))
    _attempt("mkdir", lambda: _os.mkdir(_os.path.join(_cache, "sub")))
    _attempt("symlink", lambda: _os.symlink("/etc/passwd", _os.path.join(_cache, "link-cache")))
    _attempt("fifo", lambda: _os.mkfifo(_os.path.join(_cache, "fifo-cache")))
if _worked:
    raise ImportError("the shared compile cache let this process: " + ", ".join(_worked))

_hits = []
_jax.monitoring.register_event_listener(
    lambda event, **kw: _hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None)

_mean_of_list = mean_of_list  # noqa: F821 - the reference's, above


def mean_of_list(values):
    right = _mean_of_list(values)
    return right if _shared and _hits else right + 1.0
