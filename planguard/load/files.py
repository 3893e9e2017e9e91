"""Reading input files: the checks every file goes through before any loader
sees it (a regular file, within the size limit, UTF-8), what is wrapped
around plan JSON in CI logs, duplicate keys, and the options of a load.
Below every loader, so that none of them imports the package that
dispatches to it."""

from __future__ import annotations

import codecs
import json
import os
import stat
import sys
from collections.abc import Callable
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
    # A Terraform plan's configuration references resolved in another process
    # (planguard.value_checks): `resolved_from(path, digest)` gives what the
    # other one sent for that configuration, or None; the process that
    # resolves them calls `resolved_to(path, digest, targets)` for each plan.
    resolved_from: Callable[[str, bytes], Any] | None = None
    resolved_to: Callable[[str, bytes, Any], Any] | None = None


# `-` is standard input (`terraform show -json tfplan | planguard review -`),
# read once, bounded like a file, and kept: the speed wing reads a plan's head
# before the loader reads it whole, and forked workers inherit what is kept.
STDIN = "-"
_stdin: bytes | None = None


def read_stdin(max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    global _stdin
    if _stdin is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(STDIN, "standard input is a terminal: pipe a plan in")
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError(STDIN, f"standard input is over the {_mib(max_bytes)} MiB limit")
        _stdin = data
    return _stdin


def _mib(max_bytes: int) -> int:
    return max_bytes // (1024 * 1024)


def read_bytes(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes as UTF-8, after the checks every input goes through."""
    return bytes(read_buffer(path, max_bytes, mapped=False))


def read_buffer(path: str, max_bytes: int = DEFAULT_MAX_BYTES, *, mapped: bool = True) -> Buffer:
    """`read_bytes`, but a large regular file comes back memory-mapped."""
    if path == STDIN:
        return to_utf8(path, read_stdin(max_bytes))
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
    elif all(_ascii_chunk(data, view, i) for i in range(0, len(view), _CHUNK)):
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
            speed_mapped.release(data)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _ascii_chunk(data: Buffer, view: memoryview, start: int) -> bool:
    """Whether one chunk of a mapped file is ASCII; the pages it took are given
    back at once, so checking never holds the whole file (see speed.mapped)."""
    ascii = bytes(view[start : start + _CHUNK]).isascii()
    speed_mapped.release(data)
    return ascii


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
        if path == STDIN:
            return None  # read whole, once: nothing to gain from a head
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None  # opening a FIFO would wait: the ordinary path refuses it
            with open(path, "rb") as f:
                total += os.fstat(f.fileno()).st_size
                head = f.read(512).lstrip()
        except OSError:
            return None  # the ordinary path words the error
        if not (
            head.startswith(b"{")
            and (b'"format_version"' in head or b'"plan_format_version"' in head)
        ):
            return None
    return total


# -- plans whose parts contradict each other ------------------------------------

# A loader that finds a plan's parts contradicting each other still builds the
# plan (so the report shows what it says) but marks it with a note beginning
# with this; PG001 turns every such note into a finding that blocks.
CONTRADICTION = "parts of the plan contradict each other: "


def contradiction(problem: str) -> str:
    """The note that marks a plan as contradicting itself."""
    return CONTRADICTION + problem


def contradictions(notes: list[str]) -> list[str]:
    """The contradictions among a plan's notes (without the marker)."""
    return [n[len(CONTRADICTION) :] for n in notes if n.startswith(CONTRADICTION)]


# -- plan JSON captured through a setup action's wrapper ------------------------

# hashicorp/setup-terraform's wrapper (`terraform_wrapper: true`, the default)
# runs the real binary, renamed terraform-bin, through @actions/exec. Up to v2
# that printed "[command]<path>/terraform-bin show -json tfplan" before
# Terraform's output and, after it, the workflow commands
# "::debug::Terraform exited with code 0.", "::debug::stdout: ...",
# "::debug::stderr: ...", "::debug::exitcode: 0" and, before runners wrote
# outputs to a $GITHUB_OUTPUT file, "::set-output name=stdout::..." and the
# like, each on a line of its own (wrapper/terraform.js; the lines as users
# met them: hashicorp/setup-terraform#20, #85). v3 passes stdout through
# untouched. opentofu/setup-opentofu's wrapper does the same with tofu-bin.
_WRAPPERS = {
    "terraform-bin": ("hashicorp/setup-terraform", "terraform_wrapper: false"),
    "tofu-bin": ("opentofu/setup-opentofu", "tofu_wrapper: false"),
}


def unwrap_action_output(path: str, data: Buffer) -> tuple[Buffer, str | None]:
    """The plan JSON inside `terraform show -json` output captured through a
    setup action's wrapper, and a note saying so; other input comes back as it
    is, with no note."""
    if data[:9] != b"[command]":
        return data, None
    end = data.find(b"\n")
    if end < 0:
        end = len(data)
    command = bytes(data[9:end]).decode("utf-8", "replace").strip().split()
    program = os.path.basename(command[0].replace("\\", "/")) if command else ""
    wrapper = _WRAPPERS.get(program.removesuffix(".exe"))
    if wrapper is None:
        raise InputError(path, "a CI log (`[command]` line), not plan JSON")
    action, setting = wrapper
    where = f"output of {action}'s wrapper"
    if command[1:3] != ["show", "-json"]:
        raise InputError(path, f"{where}, but not of `show -json` (set `{setting}`)")
    # Terraform writes the JSON on one line; the wrapper's workflow commands
    # ("::debug::...", "::set-output ...") start lines of their own after it.
    tail = data.find(b"\n::", end)
    body = bytes(data[end + 1 : len(data) if tail < 0 else tail]).strip()
    rest = bytes(data[len(data) if tail < 0 else tail + 1 :])
    if not body.startswith(b"{") or any(
        line.strip() and not line.startswith(b"::") for line in rest.splitlines()
    ):
        raise InputError(path, f"{where} with no single plan JSON object in it (set `{setting}`)")
    note = (
        f"read from the {where}: the `[command]` line and the workflow commands around "
        f"the JSON were left out; set `{setting}` to save plain JSON"
    )
    return body, note


# -- duplicate keys ---------------------------------------------------------------

_WHITESPACE = b" \t\n\r"


def duplicate_top_level_key(path: str, data: Buffer) -> str | None:
    """A key that the top-level object of `data` (JSON already decoded once,
    so valid) holds twice, or None.

    Every JSON reader planguard knows of keeps the last value of a repeated key
    without a word, and some keep the first: a plan whose top level says
    `errored` twice means what its reader makes of it. The keys are walked
    with the length of each (last) value, checking that the bytes at each
    value are that value: one scan for the lengths, no copy. A first value
    that differs from the last stops the walk, and the slow exact reading
    (json with object_pairs_hook) decides."""
    values = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    seen: set[str] = set()
    i, n = _skip(data, 0), len(data)
    if data[i : i + 1] != b"{":
        return _exact_top_level_duplicate(path, data)
    i = _skip(data, i + 1)
    while data[i : i + 1] == b'"':
        j = data.find(b'"', i + 1)
        while j > 0 and _escaped(data, j):
            j = data.find(b'"', j + 1)
        try:
            key = msgspec.json.decode(data[i : j + 1], type=str)
        except msgspec.MsgspecError:
            break
        if key in seen:
            return key
        seen.add(key)
        i = _skip(data, j + 1)
        value = values.get(key)
        if data[i : i + 1] != b":" or value is None:
            break
        i = _skip(data, i + 1)
        if data.find(value, i, i + len(value)) != i:
            break  # a first value unlike the last: let the exact reading decide
        i = _skip(data, i + len(value))
        if data[i : i + 1] == b",":
            i = _skip(data, i + 1)
            continue
        if data[i : i + 1] == b"}" and _skip(data, i + 1) == n and seen == values.keys():
            return None
        break
    return _exact_top_level_duplicate(path, data)


def _skip(data: Buffer, i: int) -> int:
    while data[i : i + 1] and data[i : i + 1] in _WHITESPACE:
        i += 1
    return i


def _escaped(data: Buffer, j: int) -> bool:
    """Whether the quote at `j` is escaped (preceded by an odd run of backslashes)."""
    k = j
    while k > 0 and data[k - 1 : k] == b"\\":
        k -= 1
    return (j - k) % 2 == 1


def _exact_top_level_duplicate(path: str, data: Buffer) -> str | None:
    """The repeated top-level key, read the slow, exact way (about 3 s on a
    60 MB plan): only when the walk above could not tell."""
    top: list[list[tuple[str, object]]] = []

    def pairs(items: list[tuple[str, object]]) -> object:
        top[:] = [items]  # objects close inside out: the last is the top level
        return None

    try:
        json.loads(bytes(data), object_pairs_hook=pairs)
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None
    except ValueError:
        return None  # msgspec read it: nothing the exact reading can add
    keys = [k for k, _ in top[0]] if top else []
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
        if counts[key] == 2:
            return key
    return None
