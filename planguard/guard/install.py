"""`planguard guard install --host HOST [--uninstall]`: the hook in the host's
project settings, merged by hand so that every other setting and hook stays.

- claude: `.claude/settings.json`, `hooks.PreToolUse[]`, for the tools
  `Bash|Write|Edit|MultiEdit`;
- cursor: `.cursor/hooks.json`, `hooks.beforeShellExecution[]`, first in the
  list (Cursor has run only the first of several);
- gemini: `.gemini/settings.json`, `hooks.BeforeTool[]`, for the tools
  `run_shell_command|write_file|replace`;
- kiro: `.kiro/agents/NAME.json` (an agent), `hooks.preToolUse[]`, for every
  tool (`*`: Kiro's shell and write tools have had two names each).

The entry's command ends in `|| exit 2`: when `planguard` cannot be started
(not on the agent's PATH), the host gets the exit code that blocks, not the
127 it would treat as a warning and run the tool anyway. An entry is ours
when its command runs `planguard guard`; installing again replaces it,
`--uninstall` removes it alone. A settings file that is not valid JSON is
never rewritten.
"""

from __future__ import annotations

import json
import os
from typing import Any, TextIO

from planguard.errors import InputError, UsageError
from planguard.guard.hosts import HOSTS

TIMEOUT_S = 120  # a big plan's review; hosts kill a hook that takes longer
KIRO_AGENT = "planguard"
_MATCHERS = {
    "claude": "Bash|Write|Edit|MultiEdit",
    "gemini": "run_shell_command|write_file|replace",
    "kiro": "*",
}
_EVENTS = {
    "claude": "PreToolUse",
    "cursor": "beforeShellExecution",
    "gemini": "BeforeTool",
    "kiro": "preToolUse",
}


def main(argv: list[str], out: TextIO) -> int:
    opts = _options(argv)
    host = opts.get("--host")
    if host not in HOSTS:
        raise UsageError("guard install needs --host claude, cursor, gemini or kiro")
    root = opts.get("--dir") or _root()
    agent = opts.get("--agent") or KIRO_AGENT
    command = opts.get("--command") or f"planguard guard --host {host}"
    if "planguard guard" not in command and " guard --host" not in command:
        raise UsageError("--command must run `planguard guard --host HOST`")
    path = settings_path(host, root, agent)
    out.write(change(host, path, command, uninstall="--uninstall" in opts, agent=agent) + "\n")
    return 0


def _options(argv: list[str]) -> dict[str, str]:
    known = {"--host", "--dir", "--agent", "--command"}
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        name, eq, value = word.partition("=")
        if word == "--uninstall":
            opts[word] = ""
        elif name in known:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"{name} needs a value")
                value = argv[i + 1]
                i += 1
            opts[name] = value
        else:
            raise UsageError(f"guard install: unknown argument {word!r}")
        i += 1
    return opts


def _root() -> str:
    from planguard.trust import Repo

    return Repo.find(".").root or os.getcwd()


def settings_path(host: str, root: str, agent: str = KIRO_AGENT) -> str:
    relative = {
        "claude": os.path.join(".claude", "settings.json"),
        "cursor": os.path.join(".cursor", "hooks.json"),
        "gemini": os.path.join(".gemini", "settings.json"),
        "kiro": os.path.join(".kiro", "agents", f"{agent}.json"),
    }[host]
    return os.path.join(root, relative)


def is_ours(entry: object) -> bool:
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and (
        "planguard guard" in command or ("planguard" in command and " guard --host" in command)
    )


def change(host: str, path: str, command: str, *, uninstall: bool, agent: str = KIRO_AGENT) -> str:
    """Install (or remove) the hook in the settings file at `path`; what changed."""
    doc = _load(path)
    existed = doc is not None
    if doc is None:
        if uninstall:
            return f"planguard: {path}: no such file; nothing to remove"
        doc = _new(host, agent)
    hooks = _object(doc, "hooks", path)
    event = _EVENTS[host]
    entries = hooks.get(event, [])
    if not isinstance(entries, list):
        raise InputError(path, f"hooks.{event} is not a list; planguard will not rewrite it")
    wanted = _entry(host, command)
    kept, removed = _without_ours(host, entries)
    if uninstall:
        if not removed:
            return f"planguard: {path}: no planguard hook in it; nothing changed"
        _put(hooks, event, kept)
        if not hooks:
            del doc["hooks"]
        _write(path, doc)
        return f"planguard: {path}: removed the planguard {event} hook"
    if removed == [wanted] and _ours_in_place(host, entries, wanted):
        return f"planguard: {path}: the {event} hook is already installed; nothing changed"
    new = [wanted, *kept] if host == "cursor" else [*kept, wanted]
    hooks[event] = new
    if host == "cursor":
        doc.setdefault("version", 1)
    _write(path, doc)
    verb = "replaced" if removed else "added"
    where = "created" if not existed else "updated"
    text = f"planguard: {path}: {where}; {verb} the {event} hook `{command} || exit 2`"
    if host in _MATCHERS:
        text += f" for the tools {_MATCHERS[host]}"
    if host == "kiro":
        text += (
            f". Start Kiro with this agent: `kiro-cli chat --agent {agent}` (or make it the "
            f"default: `kiro-cli settings chat.defaultAgent {agent}`)"
        )
    return text


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not valid JSON (line {exc.lineno}); fix it first, planguard will not rewrite it"
        ) from None
    if not isinstance(doc, dict):
        raise InputError(path, "not a JSON object; planguard will not rewrite it")
    return doc


def _object(doc: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = doc.setdefault(key, {})
    if not isinstance(value, dict):
        raise InputError(path, f"{key} is not a JSON object; planguard will not rewrite it")
    return value


def _new(host: str, agent: str) -> dict[str, Any]:
    if host == "kiro":
        return {
            "name": agent,
            "description": "The default tools, with planguard reviewing infrastructure changes",
            "tools": ["*"],
        }
    return {}


def _entry(host: str, command: str) -> dict[str, Any]:
    run = f"{command} || exit 2"
    if host == "claude":
        hook = {"type": "command", "command": run, "timeout": TIMEOUT_S}
        return {"matcher": _MATCHERS[host], "hooks": [hook]}
    if host == "gemini":
        hook = {
            "name": "planguard-guard",
            "type": "command",
            "command": run,
            "timeout": TIMEOUT_S * 1000,
        }
        return {"matcher": _MATCHERS[host], "hooks": [hook]}
    if host == "kiro":
        return {"matcher": _MATCHERS[host], "command": run, "timeout_ms": TIMEOUT_S * 1000}
    return {"command": run}


def _without_ours(host: str, entries: list[Any]) -> tuple[list[Any], list[Any]]:
    """(entries with our hooks taken out, the groups or entries ours were in)."""
    kept: list[Any] = []
    removed: list[Any] = []
    for entry in entries:
        if host in ("claude", "gemini") and isinstance(entry, dict):
            inner = entry.get("hooks")
            if isinstance(inner, list) and any(is_ours(h) for h in inner):
                removed.append(entry)
                rest = [h for h in inner if not is_ours(h)]
                if rest:
                    kept.append({**entry, "hooks": rest})
                continue
        elif is_ours(entry):
            removed.append(entry)
            continue
        kept.append(entry)
    return kept, removed


def _ours_in_place(host: str, entries: list[Any], wanted: dict[str, Any]) -> bool:
    return entries.count(wanted) == 1 and (host != "cursor" or entries[0] == wanted)


def _put(hooks: dict[str, Any], event: str, entries: list[Any]) -> None:
    if entries:
        hooks[event] = entries
    else:
        hooks.pop(event, None)


def _write(path: str, doc: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.planguard-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
