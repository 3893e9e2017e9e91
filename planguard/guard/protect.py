"""What an agent may not touch: the gate it is held to.

Four things can lower planguard's gate (SECURITY.md, promise 6): the policy
(`.planguard.yml`, or `[tool.planguard]` in a pyproject.toml), the user
checks it names (`checks_dir`), inline ignores and acknowledgement files.
Add the hook itself (the host's settings file), the decision log, and
planguard's cache (what it keeps decides how later reviews read sources and
run their report templates). The
agent may not write to them, run `planguard ack` (acknowledging is a second
person's act), or install and uninstall the guard. Inline ignores are in the
.tf sources the agent edits by design; they count only from the trusted
settings (the working tree a person reviews) and are shown in every report.

Writes are found in the file tools' payloads and in shell commands:
redirections (`>`, `>>`, `&>`), `tee`, `sed -i`/`perl -i`, `cp`/`mv`/
`install`/`ln`/`rsync` onto a file, `rm`, `truncate`, `dd of=`, and `git
checkout`/`restore`/`rm`/`mv` of it. A program that opens the file itself
(`python -c "open(...)"`) is not seen: the guard is a seatbelt, not a sandbox.
"""

from __future__ import annotations

import fnmatch
import os

from planguard.guard.unwrap import Run, program

POLICY_NAMES = frozenset({".planguard.yml", ".planguard.yaml"})
# Host settings that hold the hook, as (directory name, file name pattern).
HOOK_SETTINGS = (
    (".claude", "settings*.json"),
    (".cursor", "hooks.json"),
    (".gemini", "settings.json"),
    ("agents", "*.json"),  # .kiro/agents/*.json
)
LOG_DIR = ".planguard"


def protected(path: str, cwd: str | None = None) -> str | None:
    """What `path` is, when it is part of the gate; None otherwise."""
    path = os.path.expanduser(path)
    full = os.path.normpath(os.path.join(cwd, path)) if cwd else os.path.normpath(path)
    parts = full.replace("\\", "/").split("/")
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    if name in POLICY_NAMES:
        return f"{name}, planguard's policy"
    if fnmatch.fnmatch(name, "*planguard-ack*.json") or name.startswith(".planguard-ack"):
        return f"{name}, an acknowledgement file"
    if LOG_DIR in parts[:-1]:
        return f"{LOG_DIR}/{name}, planguard's decision log"
    for directory, pattern in HOOK_SETTINGS:
        if parent == directory and fnmatch.fnmatch(name, pattern):
            if directory == "agents" and (len(parts) < 3 or parts[-3] != ".kiro"):
                continue
            return f"{'/'.join(parts[-3 if directory == 'agents' else -2 :])}, the agent's hooks"
    if name == "pyproject.toml" and _has_policy(full):
        return "pyproject.toml, whose [tool.planguard] table is planguard's policy"
    cache = _cache(full)
    if cache is not None:
        return cache
    if name.endswith(".py"):
        return _user_check(full)
    return None


def _cache(full: str) -> str | None:
    """planguard's cache: parsed sources and compiled templates that later
    reviews trust (planguard.speed.cachedir)."""
    from planguard.speed import cachedir

    absolute = os.path.abspath(full)
    for place in cachedir.locations():
        if absolute == place or absolute.startswith(place.rstrip(os.sep) + os.sep):
            return f"{place}, planguard's cache (parsed sources and compiled templates)"
    return None


def _has_policy(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return b"tool.planguard" in f.read(8 * 1024 * 1024)
    except OSError:
        return False


def _user_check(path: str) -> str | None:
    """A module of the user checks the nearest policy names. Looked for with
    plain reads first: an agent writes Python files all day, and most
    projects' policies name no checks directory."""
    if not _names_checks(os.path.dirname(path)):
        return None
    from pathlib import Path

    from planguard import config

    found = config.find(Path(os.path.dirname(path)))
    if found is None:
        return None
    try:
        dirs = config.load(found).checks_dirs
    except Exception:  # a broken policy fails the review itself; not this look-up
        return None
    for directory in dirs:
        if os.path.normpath(os.path.dirname(path)) == os.path.normpath(directory):
            return f"{os.path.basename(path)}, one of planguard's user checks ({directory})"
    return None


def _names_checks(directory: str) -> bool:
    """Whether a policy file above `directory` (up to the repository root)
    mentions `checks_dir`."""
    here = os.path.abspath(directory)
    while True:
        for name in (*sorted(POLICY_NAMES), "pyproject.toml"):
            candidate = os.path.join(here, name)
            try:
                with open(candidate, "rb") as f:
                    if b"checks_dir" in f.read(8 * 1024 * 1024):
                        return True
            except OSError:
                continue
        parent = os.path.dirname(here)
        if parent == here or os.path.exists(os.path.join(here, ".git")):
            return False
        here = parent


def pyproject_policy_changed(path: str, after: str) -> bool:
    """Whether writing `after` to the pyproject.toml at `path` changes its
    [tool.planguard] table (other tables are the agent's to edit)."""
    import tomllib

    def table(text: str) -> object:
        try:
            return tomllib.loads(text).get("tool", {}).get("planguard")
        except tomllib.TOMLDecodeError:
            return "unreadable" if "planguard" in text else None

    try:
        with open(path, encoding="utf-8") as f:
            before = f.read()
    except (OSError, UnicodeDecodeError):
        before = ""
    return table(before) != table(after)


# Programs that write the files named in their words.
_IN_PLACE = frozenset({"sed", "gsed", "perl", "ruby", "yq"})
_ALL_ARGS = frozenset({"tee", "rm", "unlink", "shred", "truncate", "sponge"})
_DESTINATION = frozenset({"cp", "install", "ln", "rsync", "scp"})
_GIT_WRITES = frozenset({"checkout", "restore", "rm", "mv"})


def written(run: Run) -> list[str]:
    """Files `run` writes, named by its words (redirections are the caller's)."""
    name, args = run.name, run.argv[1:]
    files = [a for a in args if not a.startswith("-")]
    if name in _IN_PLACE:
        in_place = any(a.startswith(("-i", "--in-place")) or _cluster_has_i(a) for a in args)
        return files if in_place else []
    if name in _ALL_ARGS:
        return files
    if name == "mv":
        return files  # the source goes away, the destination is replaced
    if name in _DESTINATION:
        target = _target(args)
        if target is not None:
            return [os.path.join(target, os.path.basename(f)) for f in files if f != target]
        if len(files) < 2:
            return []
        dest = files[-1]
        if dest.endswith("/") or (run.cwd and os.path.isdir(os.path.join(run.cwd, dest))):
            return [os.path.join(dest, os.path.basename(f)) for f in files[:-1]]
        return [dest]
    if name == "dd":
        return [a[3:] for a in args if a.startswith("of=")]
    if name == "git" and len(files) > 1 and files[0] in _GIT_WRITES:
        return files[1:]
    return []


def _cluster_has_i(word: str) -> bool:
    """`-pi`, `-ni.bak`: a single-dash cluster of letters holding `i`."""
    return word.startswith("-") and not word.startswith("--") and "i" in word[1:3]


def _target(args: list[str]) -> str | None:
    for i, word in enumerate(args):
        if word in ("-t", "--target-directory") and i + 1 < len(args):
            return args[i + 1]
        if word.startswith("--target-directory="):
            return word.split("=", 1)[1]
    return None


def gate_command(run: Run) -> str | None:
    """Why `run` lowers the gate, when it is `planguard ack` or the guard's
    own install."""
    if program(run.argv[0]) != "planguard" if run.argv else True:
        return None
    words = [a for a in run.argv[1:] if not a.startswith("-")]
    if words[:1] == ["ack"]:
        return (
            "`planguard ack` is how a second person accepts a plan's findings; the agent "
            "that made the change may not acknowledge it"
        )
    if words[:2] == ["guard", "install"]:
        return "`planguard guard install` changes the hook that guards this agent"
    return None
