"""The four hosts' hook protocols: their tool-call payloads in, their
answers out. Each is checked against the host's documentation (the links and
the recorded payloads are in fixtures/guard/README.md).

- Claude Code, PreToolUse: `tool_name`, `tool_input.command` (Bash) or
  `.file_path` (Write, Edit, MultiEdit), `cwd`. Answer: JSON
  `hookSpecificOutput.permissionDecision` deny or ask, with
  `permissionDecisionReason` (the agent reads a deny's, the person an ask's).
- Cursor, beforeShellExecution: `command`, `cwd`, `workspace_roots`. Answer:
  JSON `permission` allow, deny or ask, `user_message` for the person,
  `agent_message` for the agent.
- Gemini CLI, BeforeTool: `tool_name`, `tool_input.command`
  (run_shell_command) or `.file_path` (write_file, replace), `cwd`. Answer:
  JSON `decision: deny` with `reason` for the agent; it cannot ask.
- Kiro CLI, preToolUse: `tool_name`, `tool_input.command` (execute_bash,
  shell) or `.path` (fs_write, write), `cwd`. Answer: exit 2 blocks, stderr
  goes to the agent; it cannot ask.

No objection is said the way that leaves the host's own permission rules
in charge: Claude Code and Kiro get exit 0 and nothing, Gemini CLI `{}`.
Cursor's protocol has no such answer; it gets `allow`.
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from planguard.guard.verdict import Decision

HOSTS = ("claude", "cursor", "gemini", "kiro")
EVENTS = {
    "PreToolUse": "claude",
    "beforeShellExecution": "cursor",
    "BeforeTool": "gemini",
    "preToolUse": "kiro",
}
NAMES = {"claude": "Claude Code", "cursor": "Cursor", "gemini": "Gemini CLI", "kiro": "Kiro CLI"}
CAN_ASK = frozenset({"claude", "cursor"})

# Tool names by host: the shell tool, and the tools that write files.
_SHELL_TOOLS = {
    "claude": frozenset({"Bash"}),
    "gemini": frozenset({"run_shell_command"}),
    "kiro": frozenset({"execute_bash", "shell", "execute_cmd"}),
}
_WRITE_TOOLS = {
    "claude": frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"}),
    "gemini": frozenset({"write_file", "replace"}),
    "kiro": frozenset({"fs_write", "write"}),
}


class PayloadError(Exception):
    """The payload is not one this host sends. `host` is the host it was
    meant for, when that is known."""

    def __init__(self, message: str, host: str | None) -> None:
        super().__init__(message)
        self.host = host


class Write:
    """A file a tool writes: its path, and its text afterwards when the
    payload gives it (None when it does not)."""

    __slots__ = ("after", "path")

    def __init__(self, path: str, after: str | None) -> None:
        self.path = path
        self.after = after


class Call:
    """One tool call: `kind` is "shell", "write" or "other"."""

    __slots__ = ("command", "cwd", "host", "kind", "tool", "writes")

    def __init__(
        self,
        host: str,
        kind: str,
        tool: str,
        cwd: str,
        command: str = "",
        writes: tuple[Write, ...] = (),
    ) -> None:
        self.host = host
        self.kind = kind
        self.tool = tool
        self.cwd = cwd
        self.command = command
        self.writes = writes


def read(data: bytes, host: str | None) -> Call:
    """The tool call in a payload; `host` as given (None: told by the payload)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("the hook payload is not JSON", host) from None
    if not isinstance(doc, dict):
        raise PayloadError("the hook payload is not a JSON object", host)
    event = doc.get("hook_event_name")
    found = EVENTS.get(event) if isinstance(event, str) else None
    if host is None:
        host = found
        if host is None:
            raise PayloadError("no known host sends this payload (give --host)", None)
    elif found != host:
        raise PayloadError(
            f"this is not a {NAMES[host]} {_event(host)} payload (hook_event_name {_shown(event)})",
            host,
        )
    cwd = _cwd(doc, host)
    if host == "cursor":
        return Call(host, "shell", "beforeShellExecution", cwd, _text(doc, "command", host))
    tool = doc.get("tool_name")
    tool_input = doc.get("tool_input")
    if not isinstance(tool, str) or not isinstance(tool_input, dict):
        raise PayloadError(f"the {NAMES[host]} payload has no tool_name and tool_input", host)
    if tool in _SHELL_TOOLS[host]:
        command = _text(tool_input, "command", host)
        where = tool_input.get("directory") or tool_input.get("dir_path")
        if isinstance(where, str) and where:
            cwd = os.path.join(cwd, where)
        return Call(host, "shell", tool, cwd, command)
    if tool in _WRITE_TOOLS[host]:
        return Call(host, "write", tool, cwd, writes=(_write(host, tool, tool_input, cwd),))
    return Call(host, "other", tool, cwd)


def _event(host: str) -> str:
    return next(event for event, h in EVENTS.items() if h == host)


def _shown(value: object) -> str:
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return repr(value)
    return "missing" if value is None else "unknown"


def _cwd(doc: dict[str, object], host: str) -> str:
    cwd = doc.get("cwd")
    if host == "cursor" and not cwd:
        roots = doc.get("workspace_roots")
        cwd = roots[0] if isinstance(roots, list) and roots else None
    if not isinstance(cwd, str) or not cwd:
        raise PayloadError(f"the {NAMES[host]} payload has no cwd", host)
    return os.path.abspath(cwd)


def _text(doc: dict[str, object], key: str, host: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise PayloadError(f"the {NAMES[host]} payload has no {key} string", host)
    return value


def _write(host: str, tool: str, args: dict[str, object], cwd: str) -> Write:
    """The file a write tool writes, and its text afterwards when known."""
    key = {"kiro": "path"}.get(host, "notebook_path" if tool == "NotebookEdit" else "file_path")
    path = _text(args, key, host)
    path = os.path.join(cwd, os.path.expanduser(path))
    content = args.get("content", args.get("file_text"))
    if isinstance(content, str) and args.get("command", "create") == "create":
        return Write(path, content)
    return Write(path, _edited(path, args))


def _edited(path: str, args: dict[str, object]) -> str | None:
    """The file's text after an edit of it (str_replace-like tools), or None."""
    edits = args.get("edits")
    pairs: list[tuple[object, object, object]] = []
    if isinstance(edits, list):
        pairs = [
            (e.get("old_string"), e.get("new_string"), e.get("replace_all"))
            for e in edits
            if isinstance(e, dict)
        ]
    else:
        old = args.get("old_string", args.get("old_str"))
        new = args.get("new_string", args.get("new_str"))
        pairs = [(old, new, args.get("replace_all"))]
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        text = ""
    if args.get("command") == "append" and isinstance(args.get("new_str"), str):
        return text + str(args["new_str"])
    for old, new, every in pairs:
        if not isinstance(old, str) or not isinstance(new, str):
            return None
        text = text.replace(old, new, -1 if every else 1)
    return text


# -- answers ---------------------------------------------------------------------


def answer(host: str, decision: Decision) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) that tell `host` the decision."""
    verdict = decision.verdict
    if verdict == "ask" and host not in CAN_ASK:
        verdict = "deny"
    if host == "claude":
        if verdict == "allow":
            return "", "", 0
        reason = decision.person if verdict == "ask" else decision.agent
        out = {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": verdict,
                "permissionDecisionReason": reason,
            }
        }
        return _json(out), "", 0
    if host == "cursor":
        if verdict == "allow":
            return _json({"permission": "allow"}), "", 0
        cursor = {"permission": verdict, "user_message": decision.person}
        cursor["agent_message"] = decision.agent
        return _json(cursor), "", 0
    if host == "gemini":
        if verdict == "allow":
            return "{}\n", "", 0
        gemini = {"decision": "deny", "reason": decision.agent, "systemMessage": decision.headline}
        return _json(gemini), "", 0
    if verdict == "allow":
        return "", "", 0
    return "", decision.agent + "\n", 2


def _json(doc: Mapping[str, object]) -> str:
    return json.dumps(doc, ensure_ascii=False) + "\n"
