"""Where planguard keeps what it may reuse between runs (parsed `.tf` files,
compiled report templates), and whether it may.

`$PLANGUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/planguard`, else
`~/.cache/planguard`. No cache with `PLANGUARD_NO_CACHE=1`, in CI (`CI` set)
unless `PLANGUARD_CACHE_DIR` names one, or when a directory cannot be written
or is not the user's own: whoever can write there chooses what a later run
reads, so a cache is only ever the user's own, private.
"""

from __future__ import annotations

import os


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def root() -> str | None:
    """The cache's base directory, or None when caching is off."""
    if os.environ.get("PLANGUARD_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("PLANGUARD_CACHE_DIR")
    if explicit:
        return explicit
    if in_ci():
        return None  # CI runs cold unless told where a cache is
    return _default()


def _default() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "planguard")


def locations() -> list[str]:
    """Every directory a cache may be kept in for this user, whether or not
    caching is on now: what an agent held to the gate may not write
    (planguard.guard.protect), since what is kept there decides how a later
    review reads its sources and runs its templates."""
    places = [os.path.normpath(os.path.abspath(_default()))]
    explicit = os.environ.get("PLANGUARD_CACHE_DIR")
    if explicit:
        places.append(os.path.normpath(os.path.abspath(os.path.expanduser(explicit))))
    return places


def usable(directory: str) -> bool:
    """Create `directory` (private); usable when writable and nobody else's to write."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
    except OSError:
        return False
    if hasattr(os, "geteuid") and (st.st_uid != os.geteuid() or st.st_mode & 0o022):
        return False  # someone else could plant entries
    return os.access(directory, os.W_OK | os.X_OK)


def subdir(name: str) -> str | None:
    """`name` under the cache's base directory when a cache may be kept there, else None."""
    base = root()
    if base is None:
        return None
    directory = os.path.join(base, name)
    return directory if usable(directory) else None
