"""The decision log: one JSON line per decision about infrastructure or the
gate, hash-chained so that an edit, a deletion or a reordering shows.

Where: `.planguard/guard.log` at the root of the repository the decision was
about, else `$XDG_STATE_HOME/planguard/guard.log` (`~/.local/state/…`);
`PLANGUARD_GUARD_LOG` names another file.

Each entry holds its number (`seq`, from 1), the time (UTC), the front end
(`guard` or `apply`), the host, the directory, the command with its secrets
masked (planguard.guard.mask), the verdict and its line, the saved plan and
its SHA-256, who approved, `prev` (the previous entry's `sha256`; 64 zeros
for the first) and `sha256`, of the entry's canonical JSON without it.
`planguard guard log --verify` recomputes every hash and link. Entries cut
from the end leave no trace in the file: compare the count and last hash
it prints with a copy kept elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from planguard.errors import InputError

GENESIS = "0" * 64
ENV = "PLANGUARD_GUARD_LOG"
FIELDS = (
    "seq",
    "time",
    "kind",
    "host",
    "cwd",
    "command",
    "verdict",
    "headline",
    "plan",
    "plan_sha256",
    "approved_by",
    "prev",
)


def location(cwd: str) -> str:
    """Where decisions about `cwd` are logged."""
    named = os.environ.get(ENV)
    if named:
        return named
    from planguard.trust import Repo

    root = Repo.find(cwd).root if os.path.isdir(cwd) else None
    if root is not None:
        return os.path.join(root, ".planguard", "guard.log")
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "planguard", "guard.log")


def _hash(entry: Mapping[str, object]) -> str:
    body = {k: v for k, v in entry.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def append(
    path: str, fields: Mapping[str, object], now: dt.datetime | None = None
) -> dict[str, object]:
    """Add an entry to the log at `path` (created with its directory); the
    entry as written. Concurrent writers take turns (an advisory lock)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as f:
        _lock(f.fileno())
        seq, prev = _last(f)
        when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry: dict[str, object] = {"seq": seq + 1, "time": when}
        entry.update({k: fields.get(k) for k in FIELDS if k not in ("seq", "time", "prev")})
        entry["prev"] = prev
        entry["sha256"] = _hash(entry)
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        f.seek(0, os.SEEK_END)
        f.write(line.encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
    return entry


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: one writer at a time is the caller's care
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def _last(f: BinaryIO) -> tuple[int, str]:
    """(seq, sha256) of the log's last entry; (0, GENESIS) when empty."""
    end = f.seek(0, os.SEEK_END)
    if end == 0:
        return 0, GENESIS
    size = min(end, 64 * 1024)
    f.seek(end - size)
    lines = f.read(size).rstrip(b"\n").split(b"\n")
    # A damaged last line: chain on to its bytes, and count it, as --verify
    # does (which reports the damage).
    for damaged, line in enumerate(reversed(lines)):
        try:
            entry = json.loads(line)
            seq, own = int(entry["seq"]), str(entry["sha256"])
        except (ValueError, KeyError, TypeError):
            continue
        return seq + damaged, own if damaged == 0 else hashlib.sha256(lines[-1]).hexdigest()
    return len(lines), hashlib.sha256(lines[-1]).hexdigest()


@dataclass(frozen=True)
class Check:
    """The result of verifying a log: its entries, the last hash, and the
    problems found (each naming the line)."""

    entries: int
    last: str
    problems: tuple[str, ...]


def verify(path: str) -> Check:
    """Check every entry's hash, its link to the one before, and its number."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(path, "no decision log here (no decision has been logged)") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    problems: list[str] = []
    prev, seq, entries = GENESIS, 0, 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        entries += 1
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError
            own, link, n = str(entry["sha256"]), str(entry["prev"]), int(entry["seq"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number}: not a log entry")
            prev, seq = hashlib.sha256(raw).hexdigest(), seq + 1
            continue
        if _hash(entry) != own:
            problems.append(f"line {number}: entry {n} was changed after it was written")
        if link != prev:
            problems.append(
                f"line {number}: entry {n} does not follow the entry before it "
                "(entries were removed, reordered or inserted)"
            )
        if n != seq + 1:
            problems.append(f"line {number}: entry {n} where {seq + 1} was due")
        prev, seq = own, n
    return Check(entries, prev, tuple(problems))
