"""Messages from a forked child to its parent while both go on working.

`fork.Child` gives one result, at the end. A child that works something out
early for its parent (planguard.value_checks: what a plan's configuration
references resolve to) sends it through a Handoff made before the fork:
each message is written whole as soon as it is known, and read by the parent
when it needs it. A child that dies, or a parent that stops reading, ends
the exchange: the parent then gets None and works it out itself.
"""

from __future__ import annotations

import os
import struct
from typing import Any

_LENGTH = struct.Struct("<Q")


class Handoff:
    """One pipe, made before the fork; the child only sends, the parent only receives."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    # -- in the child -------------------------------------------------------------

    def send(self, message: Any) -> bool:
        """Write one message (plain, picklable data); False when the parent
        no longer reads (it then works without it)."""
        import pickle

        if self._write < 0:
            return False
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            os.write(self._write, _LENGTH.pack(len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self._write, view) :]
        except OSError:  # a broken pipe: the parent has stopped reading
            self.done_sending()
            return False
        return True

    def done_sending(self) -> None:
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def child_side(self) -> None:
        """In the child, first: it never reads."""
        if self._read >= 0:
            os.close(self._read)
            self._read = -1

    # -- in the parent -------------------------------------------------------------

    def parent_side(self) -> None:
        """In the parent, after the fork: it never writes (and so sees the end
        of the messages when the child closes its end or exits)."""
        self.done_sending()

    def receive(self) -> Any:
        """The next message; None when there is none (the child is done, or died)."""
        import pickle

        if self._read < 0:
            return None
        head = self._read_exactly(_LENGTH.size)
        body = self._read_exactly(_LENGTH.unpack(head)[0]) if head is not None else None
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
        if self._read >= 0:
            os.close(self._read)
            self._read = -1

    def _read_exactly(self, n: int) -> bytes | None:
        parts: list[bytes] = []
        while n:
            try:
                chunk = os.read(self._read, min(n, 1 << 20))
            except OSError:
                return None
            if not chunk:
                return None
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)
