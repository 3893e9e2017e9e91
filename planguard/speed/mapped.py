"""Plan files memory-mapped rather than read into the heap."""

from __future__ import annotations

import mmap
import weakref

# From this size up a regular file is mapped rather than read: no copy of the
# whole file into the heap first (0.13 s on a 300 MB plan, 0.16 → 0.03 s at
# 50k resources), the same peak memory, and the decoded plan's raw values
# point into the mapping.
MAP_MIN = 4 * 1024 * 1024

Buffer = bytes | mmap.mmap

# The mappings in use, for `reading()`; gone with the last value pointing into them.
_live: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()
# Values read between two releases. A value read faults in its page and the
# kernel maps up to 64 KiB around it: reading the 3,500 destroyed resources'
# protection settings of a 50k plan left 81 MiB of scattered pages counted in
# the process (its peak), and the value checks' reads 99 MiB more in theirs.
# Released every 512 reads, that stays under ~32 MiB; each release costs a few
# microseconds and the next read of a page maps it back from the page cache.
READS_PER_RELEASE = 512
_reads = 0


def read(path: str, size: int, mapped: bool, *, limit: int) -> Buffer:
    """A regular file's content, mapped when `mapped` and it is `MAP_MIN` or
    more; at most `limit` + 1 bytes are read (more means over the limit).

    Raises OSError, or ValueError when the file was emptied since `size` was read."""
    if mapped and size >= MAP_MIN:
        with open(path, "rb") as f:
            found = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        _live.add(found)
        return found
    with open(path, "rb") as f:
        return f.read(limit + 1)


def release(data: Buffer) -> None:
    """Give back the pages a decode touched (peak at 50k resources 495 → 433 MiB).

    The decode touched every page of the file, which then counts in this
    process's memory although only the few values read later need it. They
    stay in the page cache, and a later read of a value maps its page back."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def reading() -> None:
    """Say that a value is about to be read from a mapping (planguard.values):
    every `READS_PER_RELEASE` reads, the pages of every mapping are given back."""
    global _reads
    _reads += 1
    if _reads >= READS_PER_RELEASE:
        _reads = 0
        for data in list(_live):
            release(data)
