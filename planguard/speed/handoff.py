"""Messages from a forked child to its parent while both go on working.

`fork.Child` gives one result, at the end. A child that works something out
early for its parent (planguard.value_checks: what a plan's configuration
references resolve to) sends it through a Handoff made before the fork:
each message is written whole as soon as it is known, and read by the parent
when it needs it. A child that dies, or a parent that stops reading, ends
the exchange: the parent then gets None and works it out itself.

Messages go to a memory file (Linux's memfd) and the pipe carries only where
each one is: a child never waits for its parent to read. Through the pipe
alone, a message larger than its buffer (1 MiB at most; a 50k-resource
monorepo plan's resolved references take 4.4 MB) held the child until the
parent came to read it.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from planguard.speed.fork import write_all

# Where a message is: (offset in the memory file, length); at _INLINE, the
# message itself follows in the pipe (no memory file on this system).
_HEAD = struct.Struct("<QQ")
_INLINE = (1 << 64) - 1


def _memory_file() -> int:
    """A file in memory shared with the child to be forked, or -1."""
    try:
        return os.memfd_create("planguard-handoff", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        return -1


class Handoff:
    """One pipe, made before the fork; the child only sends, the parent only receives."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self._store = _memory_file()
        self._end = 0  # in the child: where the next message goes

    # -- in the child -------------------------------------------------------------

    def send(self, message: Any) -> bool:
        """Write one message (plain, picklable data); False when the parent
        no longer reads (it then works without it)."""
        import pickle

        if self._write < 0:
            return False
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            if self._store >= 0:
                view = memoryview(data)
                at = self._end
                while view:
                    written = os.pwrite(self._store, view, at)
                    view, at = view[written:], at + written
                os.write(self._write, _HEAD.pack(self._end, len(data)))
                self._end = at
            else:
                os.write(self._write, _HEAD.pack(_INLINE, len(data)))
                write_all(self._write, data)
        except OSError:  # a broken pipe (the parent has stopped reading), or no memory left
            self.done_sending()
            return False
        return True

    def done_sending(self) -> None:
        self._close("_write", "_store")

    def child_side(self) -> None:
        """In the child, first: it never reads."""
        self._close("_read")

    # -- in the parent -------------------------------------------------------------

    def parent_side(self) -> None:
        """In the parent, after the fork: it never writes (and so sees the end
        of the messages when the child closes its end or exits)."""
        self._close("_write")

    def receive(self) -> Any:
        """The next message; None when there is none (the child is done, or died)."""
        import pickle

        if self._read < 0:
            return None
        head = self._read_exactly(_HEAD.size)
        body = None
        if head is not None:
            at, length = _HEAD.unpack(head)
            body = self._read_exactly(length, None if at == _INLINE else at)
        if body is None:
            self.stop()
            return None
        try:
            return pickle.loads(body)  # our own child's data
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            self.stop()
            return None

    def stop(self) -> None:
        """Read no more: a child still sending gets a broken pipe and goes on."""
        self._close("_read", "_store")

    def _close(self, *names: str) -> None:
        """Close the named descriptors (`_read`, `_write`, `_store`) still open."""
        for name in names:
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def _read_exactly(self, n: int, at: int | None = None) -> bytes | None:
        """`n` bytes from the pipe, or from the memory file at offset `at`."""
        parts: list[bytes] = []
        while n:
            try:
                if at is None:
                    chunk = os.read(self._read, min(n, 1 << 20))
                else:
                    chunk = os.pread(self._store, min(n, 1 << 30), at)
                    at += len(chunk)
            except OSError:
                return None
            if not chunk:
                return None
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)
