"""Reading input files: the checks every file goes through before any loader
sees it (a regular file, within the size limit, UTF-8), and the options of a
load. Below every loader, so that none of them imports the package that
dispatches to it."""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import msgspec

from planguard.errors import InputError
from planguard.speed import mapped as speed_mapped
from planguard.speed.mapped import Buffer

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB; --max-size raises it
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class LoadOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    # CloudFormation template pair given as --before/--after.
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    # False: Terraform plans come without dependency edges (for work that
    # never reads the graph; see planguard.value_checks).
    edges: bool = True


def read_bytes(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes as UTF-8, after the checks every input goes through."""
    return bytes(read_buffer(path, max_bytes, mapped=False))


def read_buffer(path: str, max_bytes: int = DEFAULT_MAX_BYTES, *, mapped: bool = True) -> Buffer:
    """`read_bytes`, but a large regular file comes back memory-mapped."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if p.is_dir():
        raise InputError(path, "is a directory, not a plan file")
    if not stat.S_ISREG(st.st_mode):
        # /dev/zero would be read until memory runs out, a FIFO waited on forever.
        raise InputError(path, "not a regular file (a device, pipe or socket)")
    over = InputError(
        path,
        f"file is over the {max_bytes // (1024 * 1024)} MiB limit (raise it with --max-size)",
    )
    if st.st_size > max_bytes:
        raise over
    try:
        data = speed_mapped.read(path, st.st_size, mapped, limit=max_bytes)
    except (OSError, ValueError) as exc:  # ValueError: emptied since stat()
        raise InputError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if len(data) > max_bytes:  # grown since stat()
        raise over
    return to_utf8(path, data)


@overload
def to_utf8(path: str, data: bytes) -> bytes: ...
@overload
def to_utf8(path: str, data: Buffer) -> Buffer: ...
def to_utf8(path: str, data: Buffer) -> Buffer:
    """Plans written by PowerShell arrive as UTF-16 with a byte-order mark."""
    head = data[:4]
    if head.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = bytes(data).decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError(path, "not valid UTF-16 text") from None
    if data[:4] == _ZIP_MAGIC:
        return data
    if not _is_utf8(data):
        try:
            bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    return data


_CHUNK = 1 << 22


def _is_utf8(data: Buffer) -> bool:
    """Whether `data` is valid UTF-8, without holding a decoded copy of it all
    (which for a 300 MB plan would double the peak memory of a review)."""
    view = memoryview(data)
    if isinstance(data, bytes):
        if data.isascii():
            return True
    elif all(bytes(view[i : i + _CHUNK]).isascii() for i in range(0, len(view), _CHUNK)):
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def has_sources(directory: str) -> bool:
    """Whether `directory` holds Terraform sources (.tf files)."""
    try:
        return any(n.endswith(".tf") for n in os.listdir(directory or "."))
    except OSError:
        return False


def decode_object(path: str, data: Buffer) -> dict[str, Any]:
    """A JSON document that must be an object; anything else is an InputError."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a JSON object, found a {type(doc).__name__}")
    return doc


def terraform_bytes(paths: list[str]) -> int | None:
    """How many bytes `paths` hold in all; None unless every one is a Terraform
    plan JSON file (other inputs are combined, or read another way)."""
    total = 0
    for path in paths:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None  # opening a FIFO would wait: the ordinary path refuses it
            with open(path, "rb") as f:
                total += os.fstat(f.fileno()).st_size
                head = f.read(512).lstrip()
        except OSError:
            return None  # the ordinary path words the error
        if not (head.startswith(b"{") and b'"format_version"' in head):
            return None
    return total
