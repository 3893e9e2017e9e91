"""Attribute values, decoded on demand and masked on the way out.

Loaders keep each side of a change as undecoded JSON bytes (or, for formats
that arrive decoded, as objects). The only way to read a value is through
`Attributes`. Every read that can reach output goes through `_mask`, which
replaces what the tool marked sensitive, what sits under a secret-looking key,
and what is not known until apply. The `unmasked` readers are for decisions
only (a `sensitive(false)` must not blind a check): what a check prints still
comes from the masked readers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec

from planguard.speed import mapped, recent

SENSITIVE = "(sensitive value)"
UNKNOWN = "(known after apply)"

# Keys whose values are treated as secrets even when the tool did not mark them.
_SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|passphrase|secret|token|private_key|privatekey|api_key|apikey|"
    r"access_key|secret_key|client_secret|credentials?|auth|pem|pfx|connection_string|"
    r"sas|signing_key|master_key|shared_key|psk|pre_shared_key|kubeconfig)(_|$)",
    re.IGNORECASE,
)
# Keys that match the pattern above but name no secret.
_NOT_SECRET = re.compile(
    r"(_(arn|id|ids|name|names|length|version|enabled|required|type|policy|rotation\w*|"
    r"path|count|age|expiry|expiration|reuse_prevention)$)|^(token_endpoint\w*)$",
    re.IGNORECASE,
)
# CloudFormation and many APIs name properties in CamelCase (MasterUserPassword,
# SecretString, DBPassword): split the words so the patterns above see them.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_decode = msgspec.json.Decoder().decode

Path = tuple[str | int, ...]


# Attribute names repeat across thousands of resources: remember each verdict
# (bounded, since names come from the input).
_secret_keys: dict[str, bool] = {}
_SECRET_KEYS_MAX = 65_536


def is_secret_key(key: str) -> bool:
    known = _secret_keys.get(key)
    if known is None:
        words = _CAMEL.sub("_", key)
        known = bool(_SECRET_KEY.search(words)) and not _NOT_SECRET.search(words)
        if len(_secret_keys) < _SECRET_KEYS_MAX:
            _secret_keys[key] = known
    return known


_SECRET_PREFIXES = ("{{resolve:secretsmanager:", "{{resolve:ssm-secure:")


def looks_secret_value(value: str) -> bool:
    """Values that carry their secrecy in their form (keys, tokens, dynamic references)."""
    return "-----BEGIN" in value or value.startswith(_SECRET_PREFIXES)


_SCALARS = frozenset({int, float, bool, type(None)})


def _mask(value: Any, sensitive: Any, unknown: Any = None) -> Any:
    """`value` with what is sensitive, secret-looking or unknown replaced by markers.

    The hottest code of a review (every check that reads whole values comes
    here), so scalars are handled inline rather than by recursion.
    """
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    t = type(value)
    if t is str:
        return SENSITIVE if looks_secret_value(value) else value
    if t in _SCALARS:
        return value
    if isinstance(value, dict):
        s = sensitive if isinstance(sensitive, dict) and sensitive else None
        u = unknown if isinstance(unknown, dict) and unknown else None
        out = {}
        for key, item in value.items():
            ti = type(item)
            if item is not None and ti is not bool and is_secret_key(str(key)):
                out[key] = SENSITIVE
                continue
            si = s.get(key) if s is not None else None
            ui = u.get(key) if u is not None else None
            if si is True:
                out[key] = SENSITIVE
            elif ui is True:
                out[key] = UNKNOWN
            elif ti is str:
                out[key] = SENSITIVE if looks_secret_value(item) else item
            elif ti in _SCALARS:
                out[key] = item
            else:
                out[key] = _mask(item, si, ui)
        if u is not None:
            # Unknown attributes absent from the planned value still exist after apply.
            for key, flag in u.items():
                if flag is True and key not in out:
                    out[key] = UNKNOWN
        return out
    if isinstance(value, list):
        ls: list[Any] | tuple[()] = sensitive if isinstance(sensitive, list) else ()
        lu: list[Any] | tuple[()] = unknown if isinstance(unknown, list) else ()
        ns, nu = len(ls), len(lu)
        return [
            _mask(item, ls[i] if i < ns else None, lu[i] if i < nu else None)
            for i, item in enumerate(value)
        ]
    if isinstance(value, str) and looks_secret_value(value):
        return SENSITIVE
    return value


def _leaves(
    value: Any,
    sensitive: Any,
    unknown: Any,
    at: str,
    skip: Callable[[str], bool] | None,
    out: dict[str, Any],
    hidden: set[str],
) -> None:
    """`_mask` and a flattening walk in one: the unmasked scalar leaves go to
    `out` by path, the paths of what `_mask` would hide go to `hidden`."""
    if sensitive is True or unknown is True:
        hidden.add(at)
        return
    t = type(value)
    if t is dict:
        s = sensitive if type(sensitive) is dict and sensitive else None
        u = unknown if type(unknown) is dict and unknown else None
        for key, item in value.items():
            if skip is not None and skip(key):
                continue
            path = f"{at}.{key}" if at else key
            ti = type(item)
            if item is None:
                if (s is not None and s.get(key) is True) or (u is not None and u.get(key) is True):
                    hidden.add(path)
                continue
            if ti is not bool and is_secret_key(key):
                hidden.add(path)
                continue
            si = s.get(key) if s is not None else None
            ui = u.get(key) if u is not None else None
            if si is True or ui is True:
                hidden.add(path)
            elif ti is str:
                if looks_secret_value(item):
                    hidden.add(path)
                else:
                    out[path] = item
            elif ti in _SCALARS:
                out[path] = item
            else:
                _leaves(item, si, ui, path, skip, out, hidden)
        if u is not None:
            for key, flag in u.items():
                if flag is True and key not in value and not (skip is not None and skip(key)):
                    hidden.add(f"{at}.{key}" if at else key)
    elif t is list:
        ls: list[Any] | tuple[()] = sensitive if type(sensitive) is list else ()
        lu: list[Any] | tuple[()] = unknown if type(unknown) is list else ()
        ns, nu = len(ls), len(lu)
        for i, item in enumerate(value):
            _leaves(
                item,
                ls[i] if i < ns else None,
                lu[i] if i < nu else None,
                f"{at}[{i}]",
                skip,
                out,
                hidden,
            )
    elif value is None:
        return
    elif t is str and looks_secret_value(value):
        hidden.add(at)
    else:
        out[at] = value


def _known(value: Any, unknown: Any) -> Any:
    """`value` unmasked, with only what is known after apply replaced by UNKNOWN
    (its planned value is absent, not real). Shares what it does not replace."""
    if unknown is True:
        return UNKNOWN
    if not unknown:
        return value
    if isinstance(value, dict) and isinstance(unknown, dict):
        out = dict(value)
        for key, flag in unknown.items():
            if flag is True:
                out[key] = UNKNOWN
            elif key in out:
                out[key] = _known(out[key], flag)
        return out
    if isinstance(value, list) and isinstance(unknown, list):
        return [_known(item, _at(unknown, i)) for i, item in enumerate(value)]
    return value


def _diff(a: Any, b: Any, path: Path, out: list[Path]) -> None:
    if type(a) is not type(b):
        out.append(path)
    elif isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append((*path, key))
            else:
                _diff(a[key], b[key], (*path, key), out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(path)
        else:
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                _diff(x, y, (*path, i), out)
    elif a != b:
        out.append(path)


def _unknown_paths(unknown: Any, path: Path, out: list[Path]) -> None:
    if unknown is True:
        out.append(path)
    elif isinstance(unknown, dict):
        for key in sorted(unknown, key=str):
            _unknown_paths(unknown[key], (*path, key), out)
    elif isinstance(unknown, list):
        for i, item in enumerate(unknown):
            _unknown_paths(item, (*path, i), out)


def forget_recent() -> None:
    """Drop the kept decoded sides (and with them the Attributes they belong to)."""
    recent.forget()


class ReleasedError(RuntimeError):
    """A value read after `Attributes.release`: a bug, never a silent None."""


_RELEASED: Any = object()


def _at(mask: Any, i: int) -> Any:
    return mask[i] if isinstance(mask, list) and i < len(mask) else None


_RAW_TYPES = (bytes, memoryview, msgspec.Raw)
_decode_members = msgspec.json.Decoder(dict[str, msgspec.Raw] | bool | None).decode


def _top(part: Any) -> Any:
    """A part's top level: an object's members (raw ones left undecoded),
    True, or None for anything else."""
    if isinstance(part, _RAW_TYPES):
        if not len(part):
            return None
        mapped.reading()
        try:
            part = _decode_members(part)
        except msgspec.ValidationError:
            return None  # a list, a number, a string: no members, not True
    return part if isinstance(part, dict) or part is True else None


def _member(members: dict[str, Any], key: str) -> Any:
    item = members.get(key)
    return _decode(item) if isinstance(item, msgspec.Raw) else item


class Attributes:
    """Both sides of one change's attribute values, masked whenever read.

    Raw sides are JSON bytes (decoded lazily; only the last few decoded sides
    are kept, so that a 50k-resource plan keeps little more than its bytes in
    memory); object sides come from formats that are decoded anyway.
    """

    __slots__ = ("_after", "_after_sensitive", "_before", "_before_sensitive", "_unknown")

    def __init__(
        self,
        before: bytes | Any = None,
        after: bytes | Any = None,
        *,
        before_sensitive: bytes | Any = None,
        after_sensitive: bytes | Any = None,
        after_unknown: bytes | Any = None,
    ) -> None:
        self._before = before
        self._after = after
        self._before_sensitive = before_sensitive
        self._after_sensitive = after_sensitive
        self._unknown = after_unknown

    def release(self) -> None:
        """Let go of the values: every read from now on raises ReleasedError."""
        self._before = self._after = _RELEASED
        self._before_sensitive = self._after_sensitive = self._unknown = None

    @staticmethod
    def _load(part: Any) -> Any:
        if isinstance(part, _RAW_TYPES):
            if not len(part):
                return None
            mapped.reading()
            # Decoded in place: copying a Raw to bytes first costs as much as decoding.
            return _decode(part)
        return part

    def _parts(self, side: str) -> tuple[Any, Any, Any]:
        """One side as kept: (value, sensitivity marks, unknown marks)."""
        if self._before is _RELEASED:
            raise ReleasedError("attribute values were read after the review released them")
        if side == "before":
            return self._before, self._before_sensitive, None
        if side == "after":
            return self._after, self._after_sensitive, self._unknown
        raise ValueError(f"side must be 'before' or 'after', not {side!r}")

    def _raw_side(self, side: str) -> tuple[Any, Any, Any]:
        # Reads come in runs on one change: the last few decoded are kept.
        hit: tuple[Any, Any, Any] | None = recent.get(self, side)
        if hit is not None:
            return hit
        value, sensitive, unknown = self._parts(side)
        out = self._load(value), self._load(sensitive), self._load(unknown)
        recent.put(self, side, out)
        return out

    def side(self, side: str) -> Any:
        """The whole masked value of one side."""
        return _mask(*self._raw_side(side))

    def get(self, side: str, path: Path = ()) -> Any:
        """The masked value at `path` on one side, None if absent.

        Walks the raw value and its masks together and masks only what it
        returns: checks read a few attributes of many resources.
        """
        value, sensitive, unknown = self._raw_side(side)
        for step in path:
            if sensitive is True:
                return SENSITIVE
            if unknown is True:
                return UNKNOWN
            if isinstance(value, dict) and isinstance(step, str):
                item = value.get(step)
                if item is not None and not isinstance(item, bool) and is_secret_key(step):
                    return SENSITIVE
                value = item
                sensitive = sensitive.get(step) if isinstance(sensitive, dict) else None
                unknown = unknown.get(step) if isinstance(unknown, dict) else None
            elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
                value = value[step]
                sensitive = _at(sensitive, step)
                unknown = _at(unknown, step)
            else:
                if isinstance(unknown, dict) and unknown.get(step) is True:
                    return UNKNOWN
                return None
        return _mask(value, sensitive, unknown)

    def pick(self, side: str, keys: Iterable[str]) -> dict[str, Any] | None:
        """The masked values of a few top-level attributes of one side (those
        that are absent or null left out); None when the side is no object
        (or is masked as a whole).

        Cheaper than `side()` when a check needs a handful of attributes: raw
        JSON is split into its top-level members undecoded, and only the
        members asked for are decoded.
        """
        value, sensitive, unknown = (_top(part) for part in self._parts(side))
        if sensitive is True or unknown is True or not isinstance(value, dict):
            return None  # masked as a whole, or no object
        s = sensitive if isinstance(sensitive, dict) else {}
        u = unknown if isinstance(unknown, dict) else {}
        out = {}
        for key in keys:
            if key not in value and key not in s and key not in u:
                continue
            item = _member(value, key)
            if item is not None and not isinstance(item, bool) and is_secret_key(key):
                out[key] = SENSITIVE
                continue
            item = _mask(item, _member(s, key), _member(u, key))
            if item is not None:
                out[key] = item
        return out

    def unmasked(self, side: str) -> Any:
        """The whole value of one side as the plan has it, sensitive and
        secret-looking values included: DECIDE ON IT, NEVER PRINT IT.

        For checks that must not be blinded by a `sensitive()` wrapper; what
        they print comes from the masked readers above. Values known only
        after apply are UNKNOWN. Shared with a cache: do not modify.
        """
        value, _, unknown = self._raw_side(side)
        return _known(value, unknown)

    def unmasked_pick(self, side: str, keys: Iterable[str]) -> dict[str, Any] | None:
        """`pick` without the masking (same shape): DECIDE ON IT, NEVER PRINT IT."""
        value, _, unknown = self._parts(side)
        value, unknown = _top(value), _top(unknown)
        if unknown is True or not isinstance(value, dict):
            return None  # unknown as a whole, or no object
        u = unknown if isinstance(unknown, dict) else {}
        out = {}
        for key in keys:
            if key not in value and key not in u:
                continue
            item = _known(_member(value, key), _member(u, key))
            if item is not None:
                out[key] = item
        return out

    def leaves(
        self, side: str, skip: Callable[[str], bool] | None = None
    ) -> tuple[dict[str, Any], set[str]]:
        """One side flattened: ({"a.b[0].c": scalar}, {paths hidden}).

        The leaves are what `side()` would show unmasked (absent, null and
        empty values have none); hidden are the paths it would show masked
        (sensitive, secret-looking, or known only after apply). `skip` drops
        the subtrees of the object keys it is true for. Faster than
        flattening `side()`: no masked copy is built.
        """
        out: dict[str, Any] = {}
        hidden: set[str] = set()
        _leaves(*self._raw_side(side), "", skip, out, hidden)
        return out, hidden

    def changed_paths(self) -> tuple[Path, ...]:
        """Top-down paths whose values differ or become unknown (no values)."""
        before, _, _ = self._raw_side("before")
        after, _, unknown = self._raw_side("after")
        out: list[Path] = []
        if isinstance(before, dict) and isinstance(after, dict):
            _diff(before, after, (), out)
            _unknown_paths(unknown, (), out)
        elif before != after:
            out.append(())
        return tuple(sorted(set(out), key=lambda p: tuple(str(s) for s in p)))

    def sensitive_paths(self) -> Iterator[Path]:
        for side in ("before", "after"):
            yield from _true_paths(self._load(self._parts(side)[1]), ())


def _true_paths(mask: Any, path: Path) -> Iterator[Path]:
    if mask is True:
        yield path
    elif isinstance(mask, dict):
        for key in sorted(mask, key=str):
            yield from _true_paths(mask[key], (*path, key))
    elif isinstance(mask, list):
        for i, item in enumerate(mask):
            yield from _true_paths(item, (*path, i))
