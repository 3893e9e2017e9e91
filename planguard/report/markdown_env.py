"""The jinja2 environment that renders the Markdown report's template.

The template is planguard/report/templates/comment.md.j2; its filters are
those of planguard.report.markdown_text. Compiling it takes ~60 ms, loading
it compiled ~1 ms, so compiled templates are cached on disk between runs
(planguard.speed.cachedir says where and when); a cache that cannot be used
is no cache, never an error.
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import TypedDict

import jinja2

from planguard.report.markdown_text import code_block, md_code, md_escape, plural
from planguard.speed import cachedir


class _EnvOptions(TypedDict):
    """The jinja2.Environment settings given by name, each of its own type."""

    autoescape: bool
    trim_blocks: bool
    lstrip_blocks: bool
    keep_trailing_newline: bool


# Part of the bytecode cache key: compiled templates depend on these settings
# (and on jinja2's version, which the cache checks itself), not just the source.
_ENV_OPTIONS: _EnvOptions = {
    "autoescape": False,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs; a cache that cannot be read or
    written is no cache, never an error."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{name}|{sorted(_ENV_OPTIONS.items())}", filename)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError, TypeError):  # a stale or broken cache file
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiling the comment template takes ~60 ms, loading it compiled ~1 ms.
    Compiled templates are code: kept only where planguard.speed.cachedir
    allows (the user's own private directory, off in CI unless named)."""
    directory = cachedir.subdir("templates")
    return _BytecodeCache(directory) if directory is not None else None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planguard.report", "templates"),
        # HTML autoescaping is wrong for Markdown; md_escape does the job.
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(),
        **_ENV_OPTIONS,
    )
    env.filters["md_escape"] = md_escape
    env.filters["md_code"] = md_code
    env.filters["code_block"] = code_block
    env.filters["plural"] = plural
    return env
