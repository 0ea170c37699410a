"""The one way out of a sandbox: a pipe the grader makes before the sandbox exists.

The grader creates the pipe, hands its writing end to the sandboxed process (as file descriptor
``FD``), and keeps the reading end. Everything the sandbox tells the grader crosses it as frames:

    4 bytes (little-endian length N) | N bytes: a JSON header, a newline, then an optional body

A header is an event (``{"ev": "start", "step": ...}``); a body carries a probe's output (an
``.npz`` written by ``grader.classroom.wire``). The grader never opens a path inside the sandbox's
folder, so nothing there (a symlink, a FIFO, a file rewritten behind its back) can steer it.

Everything that arrives is a claim of the sandbox's, read under bounds the grader sets: a byte
budget per process, a size per frame, and a nesting depth per header checked before parsing.
A budget of frames too, since each costs the grader a parse. A reader that meets a malformed frame
stops believing the rest of that process's messages.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass

import numpy as np

FD = 3  # the channel's number in the sandboxed process
MAX_HEADER = 64 << 10
MAX_FRAME = 32 << 20
MAX_DEPTH = 16
MAX_FRAMES = 50_000  # a lesson sends a few hundred; parsing each costs the grader, so they are counted
_LENGTH = struct.Struct("<I")


class ChannelError(ValueError):
    """The other side broke the channel's rules: too much, too deep, or malformed."""


# --- the sandbox's end ---------------------------------------------------------------------------

class Writer:
    """Frames onto a file descriptor; used only inside the sandbox."""

    def __init__(self, fd: int = FD):
        self.fd = fd

    def event(self, body: bytes = b"", **header) -> None:
        head = json.dumps(header).encode()
        if len(head) > MAX_HEADER:
            header = {k: (v[:2000] if isinstance(v, str) else v) for k, v in header.items()}
            head = json.dumps(header).encode()[:MAX_HEADER]
        frame = head + b"\n" + body
        self._write(_LENGTH.pack(len(frame)) + frame)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


_WRITER: Writer | None = None


def writer() -> Writer | None:
    """This process's channel, when it runs in a sandbox (the pytest plugin streams through it)."""
    return _WRITER


def open_writer(fd: int = FD) -> Writer:
    global _WRITER
    _WRITER = Writer(fd)
    return _WRITER


# --- the grader's end ----------------------------------------------------------------------------

@dataclass
class Frame:
    header: dict
    body: bytes


class Reader:
    """Turns the bytes read from the pipe into frames, within a byte budget for one process."""

    def __init__(self, budget: int):
        self.budget, self.received, self.frames = budget, 0, 0
        self.buffer = bytearray()
        self.broken: str | None = None

    def feed(self, data: bytes) -> list[Frame]:
        if self.broken:
            return []
        self.received += len(data)
        if self.received > self.budget:
            self.broken = f"sent more than {self.budget >> 20} MiB of messages"
            self.buffer.clear()
            return []
        self.buffer += data
        frames = []
        while len(self.buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self.buffer)
            if length > MAX_FRAME:
                self.broken = f"sent a message of {length} bytes (at most {MAX_FRAME >> 20} MiB)"
                break
            if len(self.buffer) < _LENGTH.size + length:
                break
            self.frames += 1
            if self.frames > MAX_FRAMES:
                self.broken = f"sent more than {MAX_FRAMES} messages"
                break
            payload = bytes(self.buffer[_LENGTH.size:_LENGTH.size + length])
            del self.buffer[:_LENGTH.size + length]
            try:
                frames.append(parse(payload))
            except ChannelError as err:
                self.broken = f"sent a malformed message ({err})"
                break
        if self.broken:
            self.buffer.clear()
        return frames


def parse(payload: bytes) -> Frame:
    head, sep, body = payload.partition(b"\n")
    if not sep or len(head) > MAX_HEADER:
        raise ChannelError("no header")
    header = loads(head, max_bytes=MAX_HEADER, max_depth=MAX_DEPTH)
    if not isinstance(header, dict) or not isinstance(header.get("ev"), str):
        raise ChannelError("a header that is not an event")
    for key in ("step", "status", "outcome", "message", "probe"):
        if key in header and not isinstance(header[key], str):
            raise ChannelError(f"a {key} that is not a string")
    return Frame(header, body)


def loads(data: bytes, *, max_bytes: int, max_depth: int):
    """json.loads for untrusted bytes: the size and the nesting depth are checked before parsing,
    so a deeply nested document is refused instead of exhausting the parser's recursion."""
    if len(data) > max_bytes:
        raise ChannelError(f"larger than {max_bytes} bytes")
    openers = data.count(b"[") + data.count(b"{")
    if openers > max_depth and nesting_depth(data) > max_depth:  # few openers can't nest deep
        raise ChannelError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as err:
        raise ChannelError(f"not valid JSON ({type(err).__name__})") from None


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of [ and { outside JSON strings, counted without recursion."""
    raw = np.frombuffer(bytes(data), dtype=np.uint8)
    if raw.size == 0:
        return 0
    quote = raw == ord('"')
    escaped = np.zeros_like(quote)
    backslash = raw == ord("\\")
    if backslash.any():  # a quote after an odd run of backslashes is escaped
        positions = np.arange(raw.size)
        last_other = np.maximum.accumulate(np.where(backslash, -1, positions))
        run = positions - last_other  # backslashes ending here (0 where this is not one)
        escaped[1:] = (run[:-1] % 2) == 1
    real_quote = quote & ~escaped
    inside = (np.cumsum(real_quote) - real_quote) % 2 == 1
    step = np.zeros(raw.size, dtype=np.int64)
    step[((raw == ord("[")) | (raw == ord("{"))) & ~inside & ~real_quote] = 1
    step[((raw == ord("]")) | (raw == ord("}"))) & ~inside & ~real_quote] = -1
    return int(np.max(np.cumsum(step), initial=0))
