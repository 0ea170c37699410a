"""The untouched stub, which at import tries to steer the grader through paths: links and FIFOs
named like the files an older grader read (its stream, stderr, outputs), links to a classmate's
folder and to the grade store, a .pth file in every site-packages, and forged results written
where results once lay. None of it may earn a point, reach another student, or outlive the run."""
BASE = "stub"
EXPECTED = 0
import glob as _glob
import os as _os
import site as _site
import sys as _sys

_here = _os.getcwd()
_targets = [_os.path.join(_here, ".."), _os.environ.get("HOME", _here), _os.environ.get("TMPDIR", _here)]
for _folder in _targets:
    for _name in ("stream.jsonl", "stderr.txt", "out", "secret.txt", "result.json"):
        _path = _os.path.join(_folder, _name)
        for _make in (lambda p: _os.symlink("/etc/passwd", p), lambda p: _os.mkfifo(p),
                      lambda p: _os.symlink(_os.path.join(_here, "..", "..", "honest_full"), p)):
            try:
                _make(_path)
            except OSError:
                pass
for _packages in set(_site.getsitepackages() + [p for p in _sys.path if "site-packages" in p]):
    try:
        with open(_os.path.join(_packages, "zz_hostile.pth"), "w") as _f:
            _f.write("import os; os.makedirs('/tmp/jax-lessons-hostile-pth-ran', exist_ok=True)\n")
    except OSError:
        pass
for _path in _glob.glob(_os.path.join(_here, "..", "..", "*", "out", "01", "*.npz")):
    try:
        _os.unlink(_path)
    except OSError:
        pass
