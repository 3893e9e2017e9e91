"""The cache of parsed `.tf` files (planguard.load.hcl_cache): a hit reads exactly
like a parse, a damaged or foreign entry is parsed again, and a cache that
cannot be used, or is turned off, is no cache."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import FIXTURES
from planguard.errors import InputError
from planguard.load import hcl_cache, hcl_parse
from planguard.load.hcl_sources import WorkTree

# Every directory of .tf files among the fixtures, as (root, directory in it).
TF_DIRS = sorted({p.parent for p in FIXTURES.rglob("*.tf")})
BROKEN = FIXTURES / "hcl" / "broken" / "head"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test its own cache directory, never the user's; nothing kept in memory."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(cache))
    for name in ("PLANGUARD_NO_CACHE", "CI"):
        monkeypatch.delenv(name, raising=False)
    hcl_cache._cache_at.cache_clear()
    monkeypatch.setattr(hcl_cache, "_parser", None)
    yield cache
    hcl_cache._cache_at.cache_clear()


def _new_process() -> None:
    """What a new run starts from: the disk cache only."""
    hcl_cache._cache_at.cache_clear()
    hcl_cache._parser = None


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "hcl").glob("*") if not p.name.startswith("parser-"))


def _read(directory: Path) -> str:
    """The configuration in `directory`, or its error, as text (types show in repr)."""
    try:
        return repr(hcl_parse.read(WorkTree(str(directory)), "."))
    except InputError as exc:
        return f"InputError: {exc}"


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = hcl_parse._parse

    def counting(path: str, text: str, cache: hcl_cache.ParseCache) -> Any:
        parsed.append(path)
        return real(path, text, cache)

    monkeypatch.setattr(hcl_parse, "_parse", counting)
    return parsed


def test_a_hit_is_exactly_what_python_hcl2_gives(_own_cache: Path) -> None:
    """Every fixture file: the cached blocks equal a direct parse, types and key order included."""
    import hcl2

    files = sorted(FIXTURES.rglob("*.tf"))
    compared = 0
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        try:
            direct = hcl_parse._blocks(hcl2.parses(text))
        except Exception:
            continue  # broken on purpose: see test_parse_errors_are_never_cached
        hcl_parse.parsed(str(path), raw, text)  # cold: parsed and kept
        _new_process()
        cache = hcl_cache.shared()
        key = cache.key(raw)
        assert key is not None
        hit = cache.get(key)
        assert hit is not None, path
        assert hcl_cache._same(hit, direct), path
        compared += 1
    assert compared >= 100
    assert len(_entries(_own_cache)) >= 50  # distinct contents among them


def test_warm_reads_of_every_fixture_match_cold_ones(
    _own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = {d: _read(d) for d in TF_DIRS}
    _new_process()
    parsed = _count_parses(monkeypatch)
    warm = {d: _read(d) for d in TF_DIRS}
    assert warm == cold
    # Only the files that do not parse are parsed again: errors are never kept.
    broken = [d for d, text in cold.items() if "cannot parse HCL" in text]
    assert broken and len(parsed) == len(broken)
    monkeypatch.setenv("PLANGUARD_NO_CACHE", "1")
    _new_process()
    assert {d: _read(d) for d in TF_DIRS} == cold


def test_a_warm_run_imports_neither_python_hcl2_nor_lark(_own_cache: Path) -> None:
    directory = FIXTURES / "hcl" / "graph" / "head"
    _read(directory)
    code = (
        "import sys; from planguard.load import hcl_parse; "
        "from planguard.load.hcl_sources import WorkTree; "
        f"c = hcl_parse.read(WorkTree({str(directory)!r}), '.'); "
        "assert c.resources(); "
        "sys.exit(3 if {'hcl2', 'lark'} & set(sys.modules) else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_files_the_same_in_both_trees_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANGUARD_NO_CACHE", "1")
    parsed = _count_parses(monkeypatch)
    directory = FIXTURES / "hcl" / "graph" / "head"
    first = _read(directory)
    count = len(parsed)
    assert _read(directory) == first
    assert len(parsed) == count


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data, other: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data, other: b"", id="empty"),
        pytest.param(lambda data, other: data[:-1] + bytes([data[-1] ^ 1]), id="bit-flip"),
        pytest.param(lambda data, other: b"\x93\xa1x" * 40, id="garbage"),
        pytest.param(lambda data, other: other, id="foreign"),
        pytest.param(
            lambda data, other: hcl_cache._checksum(b"\x92\xa1x\x90") + b"\x92\xa1x\x90",
            id="checksummed-other-key",
        ),
        pytest.param(
            lambda data, other: hcl_cache._checksum(b"\xc1") + b"\xc1", id="checksummed-garbage"
        ),
    ],
)
def test_a_damaged_or_foreign_entry_is_parsed_again(
    _own_cache: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    directory = FIXTURES / "hcl" / "module-removed" / "base"
    cold = _read(directory)
    entries = _entries(_own_cache)
    assert len(entries) >= 2
    good = {p: p.read_bytes() for p in entries}
    for i, path in enumerate(entries):
        path.write_bytes(damage(good[path], good[entries[i - 1]]))
    _new_process()
    parsed = _count_parses(monkeypatch)
    assert _read(directory) == cold
    assert len(parsed) == len(entries)
    assert {p: p.read_bytes() for p in entries} == good  # and written again


def test_parse_errors_are_never_cached(_own_cache: Path) -> None:
    with pytest.raises(InputError) as first:
        hcl_parse.read(WorkTree(str(BROKEN)), ".")
    _new_process()
    with pytest.raises(InputError) as again:
        hcl_parse.read(WorkTree(str(BROKEN)), ".")
    assert str(again.value) == str(first.value)
    assert "main.tf:7: cannot parse HCL" in str(first.value)
    assert _entries(_own_cache) == []


def test_a_cache_that_cannot_be_written_is_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = FIXTURES / "hcl" / "graph" / "head"
    expected = _read(directory)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(blocker / "cache"))
    _new_process()
    assert _read(directory) == expected
    assert hcl_cache.shared().directory is None


def test_a_cache_others_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    (shared / "hcl").mkdir(parents=True)
    (shared / "hcl").chmod(0o777)
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(shared))
    _new_process()
    assert hcl_cache.shared().directory is None
    _read(FIXTURES / "hcl" / "graph" / "head")
    assert list((shared / "hcl").iterdir()) == []


def test_planguard_no_cache_turns_it_off(_own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANGUARD_NO_CACHE", "1")
    _new_process()
    _read(FIXTURES / "hcl" / "graph" / "head")
    assert not _own_cache.exists()


def test_ci_runs_cold_unless_a_cache_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANGUARD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CI", "true")
    directory = FIXTURES / "hcl" / "graph" / "head"
    _new_process()
    _read(directory)
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("CI")
    _new_process()
    _read(directory)
    assert _entries(tmp_path / "xdg" / "planguard")
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path / "named"))
    _new_process()
    _read(directory)
    assert _entries(tmp_path / "named")


def test_pruning_keeps_the_most_recently_used(
    _own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = hcl_cache.shared()
    assert cache.directory is not None
    old = []
    for n in range(6):
        path = Path(cache.directory) / f"{n:040x}"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
        old.append(path)
    monkeypatch.setattr(hcl_cache, "MAX_ENTRIES", 5)
    monkeypatch.setattr(hcl_cache, "KEEP_ENTRIES", 3)
    _read(FIXTURES / "hcl" / "protect" / "base")  # one new entry, written now
    left = _entries(_own_cache)
    assert len(left) == 3
    assert old[5] in left and old[4] in left and old[0] not in left


# -- the parser ----------------------------------------------------------------


def _parser_files(cache: Path) -> list[Path]:
    return sorted((cache / "hcl").glob("parser-*.pickle"))


def test_the_parser_is_kept_and_used(_own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hcl2.parser

    cold = {d: _read(d) for d in TF_DIRS}
    assert len(_parser_files(_own_cache)) == 1
    for path in _entries(_own_cache):
        path.unlink()

    def refuse() -> None:
        raise AssertionError("the parser was built, not loaded")

    monkeypatch.setattr(hcl2.parser, "parser", refuse)
    _new_process()
    assert {d: _read(d) for d in TF_DIRS} == cold


@pytest.mark.parametrize("damage", ["truncated", "bit-flip", "garbage"])
def test_a_damaged_parser_is_built_again(_own_cache: Path, damage: str) -> None:
    directory = FIXTURES / "hcl" / "graph" / "head"
    cold = _read(directory)
    (path,) = _parser_files(_own_cache)
    data = path.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 3],
        "bit-flip": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        "garbage": os.urandom(len(data)),
    }[damage]
    path.write_bytes(damaged)
    for entry in _entries(_own_cache):
        entry.unlink()
    _new_process()
    assert _read(directory) == cold
    assert hcl_cache._unpickle(path.read_bytes()) is not None  # and kept again


class _Plant:
    """Pickles as a call that would leave a file behind."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> Any:
        return (Path.write_text, (self.target, "ran"))


class _PlantLark:
    """Pickles as a call of lark's own constructor, which writes (and reads, and
    unpickles) the cache file it is given."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> Any:
        import functools

        from lark import Lark

        return (functools.partial(Lark, parser="lalr", cache=str(self.target)), ('start: "a"',))


@pytest.mark.parametrize("planted", [_Plant, _PlantLark], ids=["foreign-call", "lark-constructor"])
def test_a_planted_parser_runs_nothing(_own_cache: Path, tmp_path: Path, planted: Any) -> None:
    directory = FIXTURES / "hcl" / "graph" / "head"
    cold = _read(directory)
    (path,) = _parser_files(_own_cache)
    target = tmp_path / "ran"
    buf = io.BytesIO()
    pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(planted(target))
    payload = buf.getvalue()
    path.write_bytes(hcl_cache._checksum(payload) + payload)  # a valid checksum: planted
    assert hcl_cache._unpickle(path.read_bytes()) is None
    for entry in _entries(_own_cache):
        entry.unlink()
    _new_process()
    assert _read(directory) == cold
    assert not target.exists()
