"""Student ids: the id a submission folder's name gives, and the folder a student's results go to.

Both maps are one-to-one by construction, and each has its inverse, so two students never share a
row of ``grades.csv`` or a folder of ``OUT/students/``, however their folders are named:

- **name -> id** (`from_name`, inverse `to_name`). A folder's name is bytes; its id is that name
  as UTF-8 text, with a backslash written ``\\\\``, and a byte that is not UTF-8 text, or a control
  character, written ``\\xhh``. So a name that is not UTF-8 (``caf\\xe9`` as one byte) and a
  folder literally named ``caf\\xe9`` get the ids ``caf\\xe9`` and ``caf\\\\xe9``. Every other name
  is its own id: ``John Smith``, ``zoë``.
- **id -> folder** (`folder`, inverse `from_folder`). Any id (any text: ``..``, an empty one, one
  with ``/`` or NUL or lone surrogates) gets a folder name of lowercase ASCII: letters, digits and
  ``._-@+`` stand for themselves (a leading dot excepted), a capital is ``^`` and its small
  letter, any other byte of the id's UTF-8 is ``%hh``, and the empty id is ``%``. A plain id
  (``ada``, ``s123``) is its own folder; no id's folder is another id's folder, and none starts
  with a dot (hidden, or ``.``/``..``). As capitals are written apart, two ids differing only in
  case get two folders on a case-insensitive disk too (macOS, Windows). An id whose folder would
  pass `MAX_FOLDER` characters gets the start of it, ``~`` (which no other folder holds) and the
  SHA-256 of the whole id; that folder can't be read back (its ``result.json`` holds the id).
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata

MAX_FOLDER = 160  # characters: well within the 255 bytes a name may have on every common disk
_KEPT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._-@+")
_LONG = "~"
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")
_FOLDER_CODE = re.compile(r"\^[a-z]|%[0-9a-f]{2}|[a-z0-9._@+-]")


# --- folder name (bytes) -> student id (text) -------------------------------------------------------

def from_name(name: str | bytes) -> str:
    """The student id of a folder named `name` (bytes, or text as `os.listdir` gives it, where a
    byte that is not UTF-8 is a lone surrogate)."""
    return "".join(map(_id_char, os.fsencode(name).decode("utf-8", "surrogateescape")))


def _id_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8, as surrogateescape decodes it
        return f"\\x{ord(char) - 0xDC00:02x}"
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):  # control characters and line breaks
        return "".join(f"\\x{b:02x}" for b in char.encode("utf-8"))
    return char


def to_name(student: str) -> bytes:
    """The folder name whose id is `student` (the inverse of `from_name`)."""
    parts = _ESCAPE.split(student)  # text, escape, text, escape, ..., text
    raw = [part.encode("utf-8", "surrogateescape") for part in parts[::2]]
    escapes = [b"\\" if code == "\\" else bytes([int(code[1:], 16)]) for code in parts[1::2]]
    return b"".join(piece for pair in zip(raw, escapes + [b""]) for piece in pair)


# --- student id (any text) -> folder of results ---------------------------------------------------

def folder(student: str) -> str:
    """The folder name of `student`'s results: one-to-one, and safe on any disk (see the module's
    docstring)."""
    code = _encode(student)
    if len(code) <= MAX_FOLDER:
        return code
    start = code[:MAX_FOLDER - 65]
    start = start[:len(start) - 2] if "%" in start[-2:] else start  # never cut a %hh in half
    start = start[:-1] if start.endswith("^") else start
    return f"{start}{_LONG}{hashlib.sha256(_utf8(student)).hexdigest()}"


def _utf8(student: str) -> bytes:
    """Every str has UTF-8 bytes this way, lone surrogates included, and they give it back."""
    return student.encode("utf-8", "surrogatepass")


def _encode(student: str) -> str:
    if student == "":
        return "%"
    out = []
    for byte in _utf8(student):
        if byte in _KEPT:
            out.append(chr(byte))
        elif 0x41 <= byte <= 0x5A:  # a capital
            out.append("^" + chr(byte + 32))
        else:
            out.append(f"%{byte:02x}")
    if out[0] == ".":
        out[0] = "%2e"
    return "".join(out)


def from_folder(name: str) -> str | None:
    """The student id whose folder is `name` (the inverse of `folder`), or None when no id has
    that folder, or only a long id whose folder holds its hash."""
    if name == "%":
        return ""
    codes = _FOLDER_CODE.findall(name)
    if _LONG in name or "".join(codes) != name:
        return None
    raw = bytearray()
    for code in codes:
        if code[0] == "^":
            raw.append(ord(code[1]) - 32)
        elif code[0] == "%":
            raw.append(int(code[1:], 16))
        else:
            raw.append(ord(code))
    try:
        student = bytes(raw).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
    return student if folder(student) == name else None
