"""Plain-array transport between the grader and a student's process.

A value crosses as one ``.npz`` file: its arrays, plus a JSON description of the structure around
them (dicts, lists, tuples, Python numbers, strings, None, PRNG key arrays). Loading uses
``allow_pickle=False`` and accepts only numeric and boolean arrays, so nothing a student's process
writes can run code, or smuggle in an object whose ``__eq__`` lies, on the grader's side.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

SPEC_KEY = "__spec__"
MAX_BYTES = 64 << 20
MAX_NODES = 20_000
MAX_DEPTH = 32
_ARRAY_KINDS = "biufc"


class WireError(ValueError):
    """A value that can't cross: an unsupported type, a bad file, or too much of it."""


def _is_key_array(x) -> bool:
    dtype = getattr(x, "dtype", None)
    if dtype is None or type(x).__module__.startswith("numpy"):
        return False
    import jax

    return jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def encode(tree) -> tuple[dict, dict[str, np.ndarray]]:
    """(spec, arrays): the structure as JSON-able data and the leaves as NumPy arrays."""
    arrays: dict[str, np.ndarray] = {}

    def walk(x, depth):
        if depth > MAX_DEPTH or len(arrays) > MAX_NODES:
            raise WireError("the value is nested too deeply or holds too many pieces")
        if x is None:
            return {"t": "none"}
        if isinstance(x, bool):
            return {"t": "bool", "v": x}
        if isinstance(x, int) and type(x) is int:
            return {"t": "int", "v": x}
        if isinstance(x, float) and type(x) is float:
            return {"t": "float", "v": repr(x)}
        if isinstance(x, str) and type(x) is str:
            return {"t": "str", "v": x[:10_000]}
        if type(x) in (list, tuple):
            return {"t": type(x).__name__, "v": [walk(v, depth + 1) for v in x]}
        if type(x) is dict:
            if not all(type(k) is str for k in x):
                raise WireError("a dict with keys that are not strings")
            return {"t": "dict", "v": {k: walk(v, depth + 1) for k, v in x.items()}}
        if _is_key_array(x):
            import jax

            name = f"a{len(arrays)}"
            arrays[name] = np.asarray(jax.random.key_data(x))
            return {"t": "key", "impl": str(jax.random.key_impl(x)), "a": name}
        if isinstance(x, (np.ndarray, np.generic)) or type(x).__module__.startswith(("jax", "jaxlib")):
            array = np.asarray(x)
            if array.dtype.kind not in _ARRAY_KINDS:
                raise WireError(f"an array of dtype {array.dtype}, which is not a number or a bool")
            name = f"a{len(arrays)}"
            arrays[name] = array
            return {"t": "array", "a": name}
        raise WireError(f"a value of type {type(x).__name__}, which is not an array, a number or a "
                        "list/tuple/dict of them")

    return walk(tree, 0), arrays


def dumps(tree) -> bytes:
    """The value as the bytes of one uncompressed ``.npz``."""
    spec, arrays = encode(tree)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{SPEC_KEY: np.array(json.dumps(spec))})
    return buffer.getvalue()


def save(path: Path, tree) -> None:
    Path(path).write_bytes(dumps(tree))


def load(path: Path, *, keys: str = "data", max_bytes: int = MAX_BYTES):
    """The value saved at `path` (a file the grader wrote: the hidden inputs). See `loads`."""
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    return loads(data, keys=keys, max_bytes=max_bytes)


def loads(data: bytes, *, keys: str = "data", max_bytes: int = MAX_BYTES):
    """The value in `data`, the bytes of an ``.npz``. Every size is checked before anything is
    allocated: the file, the count of arrays, each array's declared shape and dtype, and the bytes
    it really holds (so a zip bomb or a header declaring terabytes is refused, not unpacked).
    ``keys="wrap"`` rebuilds PRNG key arrays (needs JAX); ``keys="data"`` gives them as
    ``("key", impl, data)`` tuples, for comparison."""
    if len(data) > max_bytes:
        raise WireError(f"the result is larger than {max_bytes >> 20} MiB")
    try:
        arrays = _read_npz(data, max_bytes)
    except WireError:
        raise
    except (OSError, ValueError, TypeError, KeyError, OverflowError, zipfile.BadZipFile, EOFError,
            NotImplementedError, RuntimeError) as err:
        raise WireError(f"the result could not be read ({type(err).__name__})") from None
    spec_array = arrays.pop(SPEC_KEY, None)
    if spec_array is None or spec_array.dtype.kind != "U" or spec_array.ndim != 0:
        raise WireError("the result has no description of its structure")
    try:
        spec = json.loads(str(spec_array))
    except (ValueError, RecursionError):
        raise WireError("the result's structure is not valid JSON") from None
    for array in arrays.values():
        if array.dtype.kind not in _ARRAY_KINDS:
            raise WireError(f"the result holds an array of dtype {array.dtype}")
    return decode(spec, arrays, keys=keys)


def _read_npz(data: bytes, budget: int) -> dict[str, np.ndarray]:
    from numpy.lib import format as npy

    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_NODES + 1:
            raise WireError("the result holds too many arrays")
        if sum(m.file_size for m in members) > budget:
            raise WireError(f"the result unpacks to more than {budget >> 20} MiB")
        for member in members:
            if not member.filename.endswith(".npy"):
                raise WireError("the result holds something that is not an array")
            with archive.open(member) as f:
                raw = f.read(budget + 1)
            budget -= len(raw)
            if budget < 0:
                raise WireError("the result unpacks to more than its size allows")
            arrays[member.filename[:-4]] = _read_npy(raw, npy)
    return arrays


def _read_npy(raw: bytes, npy) -> np.ndarray:
    stream = io.BytesIO(raw)
    version = npy.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = npy.read_array_header_2_0(stream)
    else:
        raise WireError("an array in an unknown format")
    if dtype.hasobject or (dtype.kind not in _ARRAY_KINDS and not (dtype.kind == "U" and shape == ())):
        raise WireError(f"an array of dtype {dtype}")
    count = 1
    for n in shape:
        if not isinstance(n, int) or n < 0:
            raise WireError("an array with a malformed shape")
        count *= n
    body = raw[stream.tell():]
    if count * dtype.itemsize != len(body):
        raise WireError(f"an array declared as {shape} {dtype} holds {len(body)} bytes")
    array = np.frombuffer(body, dtype=dtype, count=count) if count else np.empty(0, dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def decode(spec, arrays: dict[str, np.ndarray], *, keys: str = "data"):
    count = [0]

    def walk(node, depth):
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_NODES or not isinstance(node, dict):
            raise WireError("the result's structure is malformed")
        kind = node.get("t")
        if kind == "none":
            return None
        if kind == "bool":
            return bool(node["v"])
        if kind == "int" and type(node.get("v")) is int:
            return node["v"]
        if kind == "float":
            return float(node["v"])
        if kind == "str":
            return str(node["v"])
        if kind in ("list", "tuple") and isinstance(node.get("v"), list):
            items = [walk(v, depth + 1) for v in node["v"]]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(node.get("v"), dict):
            return {str(k): walk(v, depth + 1) for k, v in node["v"].items()}
        if kind in ("array", "key") and node.get("a") in arrays:
            array = arrays[node["a"]]
            if kind == "array":
                return array
            if keys == "wrap":
                import jax

                return jax.random.wrap_key_data(array, impl=str(node["impl"]))
            return ("key", str(node["impl"]), array)
        raise WireError("the result's structure is malformed")

    return walk(spec, 0)
