#!/usr/bin/env python3
"""Hostile pull requests against the trust model, run against any planguard.

The author of a change must never lower its own gate. Each situation here is a
real git repository in a temporary directory: a base commit holding a strict
policy (`fail_on: high`) and a plan that destroys the billing database, and a
head commit with the pull request's change on top, checked out with the base
present (as `fetch-depth: 2` gives). `planguard github` then runs in it the way
the Action runs it: the runner's environment (GITHUB_EVENT_PATH with the real
base and head commits, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), the plans in
PLANGUARD_PLANS, and a local fake of the GitHub REST API on 127.0.0.1 for
reviews, commits, permissions and the sticky comment.

    python benchmarks/trust_attacks.py --planguard /path/to/venv/bin/planguard
    python benchmarks/trust_attacks.py --planguard PG --json after.json --only 1,9,L1
    python benchmarks/trust_attacks.py --combine before.json after.json

It prints a Markdown table, one row per situation: the exit code and the
verdict (0 passes, 1 blocked, anything else, a timeout included, error), and a
note where the situation has more to tell (a leaked token, a comment someone
else wrote that planguard edited, the acknowledgement format used). Numbered
situations are attacks and should block; L1-L3 are the legitimate ways through
and should pass. `--combine` joins two `--json` results into one before/after
table. Only the standard library is used, so any python3 runs it, whichever
planguard it tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EVENT = FIXTURES / "github/events/pull_request.json"
DB_PLAN = FIXTURES / "github/plans/db-destroyed.json"
SG_NARROW = FIXTURES / "acks/pg301-web-8080.json"
SG_WIDER = FIXTURES / "acks/pg301-web-wider.json"
ERRORED_PLAN = FIXTURES / "checks/PG001/bad.json"
SENSITIVE_PLAN = FIXTURES / "checks/PG105/bad-sensitive.json"

REPO = "acme/infra"
PR_NUMBER = 7
TOKEN = "x"
AUTHOR = "alice"  # who opened the pull request (the event fixture's user)
BOT = "github-actions[bot]"  # whom the fake API says POSTed comments are by
COMMENT_KEY = "billing"  # PLANGUARD_COMMENT_KEY where a comment is planted
TIMEOUT = 120  # seconds, for each planguard run

TF = 'resource "aws_db_instance" "billing" {\n  identifier = "billing"\n}\n'
BASE_POLICY = "fail_on: high\n"
# The format 1 acknowledgement (address, action) a pull request can write by hand.
ACK_V1 = {
    "planguard_ack": 1,
    "plans": {
        "infra/plan.json": {
            "accepted": [{"address": "aws_db_instance.billing", "action": "delete"}]
        }
    },
    "by": "x",
}
MARKER = "<!-- planguard-report -->"


def key_line(key: str) -> str:
    """The sticky comment's key line, as planguard.github.marker writes it."""
    return f"<!-- planguard-key: {hashlib.sha256(key.encode()).hexdigest()[:16]} -->"


# --- git -------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "GIT_AUTHOR_NAME": "alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "alice",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return proc.stdout.strip()


# --- the fake GitHub API -----------------------------------------------------------


@dataclass
class Api:
    """What the fake API answers, and what it was asked."""

    reviews: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)  # login (lower) -> role
    comments: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 5000

    def commit(self, author: str | None, committer: str | None = None) -> None:
        def user(login: str | None) -> dict[str, str] | None:
            return {"login": login, "type": "User"} if login else None

        sha = f"{len(self.commits) + 1:040x}"
        self.commits.append({"sha": sha, "author": user(author), "committer": user(committer)})

    def review(self, login: str, commit: str, kind: str = "User", state: str = "APPROVED") -> None:
        self.reviews.append(
            {
                "id": len(self.reviews) + 1,
                "user": {"login": login, "type": kind},
                "state": state,
                "commit_id": commit,
                "submitted_at": f"2024-05-01T10:{len(self.reviews):02d}:00Z",
            }
        )

    def patched(self, comment_id: int) -> bool:
        path = f"/repos/{REPO}/issues/comments/{comment_id}"
        return ("PATCH", path) in self.calls


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, doc: Any = None) -> None:
        raw = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        if doc is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> Any:
        size = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(size) or b"{}")

    def _route(self, method: str) -> None:
        api = self.server.api
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            api.calls.append((method, path))
            status, doc = self._answer(api, method, path)
        self._send(status, doc)

    def _answer(self, api: Api, method: str, path: str) -> tuple[int, Any]:
        base = f"/repos/{REPO}"
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        if method == "GET" and path == f"{base}/pulls/{PR_NUMBER}/reviews":
            return 200, api.reviews
        if method == "GET" and path == f"{base}/pulls/{PR_NUMBER}/commits":
            return 200, api.commits
        match = re.fullmatch(rf"{base}/collaborators/([^/]+)/permission", path)
        if method == "GET" and match:
            login = match.group(1)
            role = api.permissions.get(login.lower(), "write")
            legacy = {"maintain": "write", "triage": "read"}.get(role, role)
            return 200, {
                "permission": legacy,
                "role_name": role,
                "user": {"login": login, "type": "User"},
            }
        if path == f"{base}/issues/{PR_NUMBER}/comments":
            if method == "GET":
                return 200, api.comments
            if method == "POST":
                api.next_id += 1
                comment = {
                    "id": api.next_id,
                    "body": self._body()["body"],
                    "user": {"login": BOT, "type": "Bot"},
                    "html_url": f"https://github.test/{REPO}/pull/{PR_NUMBER}"
                    f"#issuecomment-{api.next_id}",
                }
                api.comments.append(comment)
                return 201, comment
        match = re.fullmatch(rf"{base}/issues/comments/(\d+)", path)
        if match:
            found = [c for c in api.comments if c["id"] == int(match.group(1))]
            if not found:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                found[0]["body"] = self._body()["body"]
                return 200, found[0]
            if method == "DELETE":
                api.comments.remove(found[0])
                return 204, None
        # /contents/...: the base commit is in the checkout, git reads it.
        return 404, {"message": "Not Found"}

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: Api) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


# --- one situation ---------------------------------------------------------------


@dataclass
class Ctx:
    """One situation's repository, API and planguard, for the cases to arrange."""

    planguard: str
    tmp: Path
    root: Path
    api: Api = field(default_factory=Api)
    cwd: str = "."  # the Action's working-directory, relative to the repository
    plans: str = "infra/plan.json"
    extra_env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    base_sha: str = ""
    head_sha: str = ""

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def copy(self, source: Path, path: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.root, "rev-parse", "HEAD")

    def env(self) -> dict[str, str]:
        """A clean environment: nothing of the caller's PLANGUARD_*, GITHUB_*,
        proxies or PYTHONPATH reaches planguard."""
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.tmp),
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def ack(self, plan: str, by: str, reason: str) -> int:
        """`planguard ack PLAN` of the planguard under test, in the repository;
        the format it wrote (1 or 2)."""
        proc = subprocess.run(
            [self.planguard, "ack", plan, "--by", by, "--reason", reason],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"planguard ack exited {proc.returncode}: {proc.stderr.strip()}")
        return int(json.loads((self.root / ".planguard-ack.json").read_text())["planguard_ack"])


@dataclass
class Result:
    key: str
    title: str
    exit: str
    verdict: str
    note: str = ""


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    change: Callable[[Ctx], None] | None = None  # the pull request's change
    base: Callable[[Ctx], None] | None = None  # the base beyond the common files
    api: Callable[[Ctx], None] | None = None  # the API's answers (head_sha is known)
    after: Callable[[Ctx], None] | None = None  # notes from what happened
    review_only: bool = False  # `planguard review PLANS` instead of the Action


def run_case(case: Case, planguard: str, keep: bool) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix=f"pg-trust-{case.key}-"))
    try:
        ctx = Ctx(planguard, tmp, tmp / "repo")
        ctx.root.mkdir()
        ctx.write(".planguard.yml", BASE_POLICY)
        ctx.copy(DB_PLAN, "infra/plan.json")
        ctx.write("infra/main.tf", TF)
        git(ctx.root, "init", "-q", "-b", "main")
        if case.base:
            case.base(ctx)
        ctx.base_sha = ctx.commit("base")
        git(ctx.root, "checkout", "-q", "-b", "change")
        if case.change:
            case.change(ctx)
        ctx.head_sha = ctx.commit("the change")
        ctx.api.commit(AUTHOR, AUTHOR)
        if case.api:
            case.api(ctx)
        code = _review(ctx) if case.review_only else _github(ctx)
        if case.after:
            case.after(ctx)
        verdict = {"0": "passes", "1": "blocked"}.get(code, "error")
        return Result(case.key, case.title, code, verdict, "; ".join(ctx.notes))
    except Exception as exc:  # the harness itself failed: say so in the row
        return Result(case.key, case.title, "-", "error", f"harness: {type(exc).__name__}: {exc}")
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _exec(ctx: Ctx, args: list[str], env: dict[str, str]) -> str:
    try:
        proc = subprocess.run(
            [ctx.planguard, *args],
            cwd=ctx.root / ctx.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        ctx.notes.append(f"timed out after {TIMEOUT} s")
        return "timeout"
    (ctx.tmp / "stdout").write_text(proc.stdout)
    (ctx.tmp / "stderr").write_text(proc.stderr)
    return str(proc.returncode)


def _review(ctx: Ctx) -> str:
    return _exec(ctx, ["review", *ctx.plans.split()], ctx.env())


def _github(ctx: Ctx) -> str:
    event = json.loads(EVENT.read_text())
    event["pull_request"]["base"]["sha"] = ctx.base_sha
    event["pull_request"]["head"]["sha"] = ctx.head_sha
    event_path = ctx.tmp / "event.json"
    event_path.write_text(json.dumps(event))
    output, summary = ctx.tmp / "github_output", ctx.tmp / "step_summary"
    output.write_text("")
    summary.write_text("")
    server = _Server(ctx.api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            **ctx.env(),
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": server.url,
            "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "42",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKSPACE": str(ctx.root),
            "GITHUB_SHA": ctx.head_sha,
            "GITHUB_ACTOR": AUTHOR,
            "PLANGUARD_PLANS": ctx.plans,
            "PLANGUARD_GITHUB_TOKEN": TOKEN,
            **ctx.extra_env,
        }
        code = _exec(ctx, ["github"], env)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    if "blocked" not in parse_outputs(output.read_text()):
        ctx.notes.append("no step outputs written")
    return code


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it (name=value and heredoc forms)."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delim = line.split("<<", 1)
            held: list[str] = []
            for inner in lines:
                if inner == delim:
                    break
                held.append(inner)
            out[name] = "\n".join(held)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


# --- the situations ----------------------------------------------------------------


def _policy(text: str) -> Callable[[Ctx], None]:
    def change(ctx: Ctx) -> None:
        ctx.write(".planguard.yml", text)

    return change


def _pyproject(ctx: Ctx) -> None:
    ctx.write("infra/pyproject.toml", '[tool.planguard]\ndisable = ["PG101"]\n')
    ctx.cwd, ctx.plans = "infra", "plan.json"


def _inline_ignore(ctx: Ctx) -> None:
    ctx.write("infra/main.tf", "# planguard:ignore PG101 fine\n" + TF)


def _checks_exit(ctx: Ctx) -> None:
    ctx.write(".planguard.yml", "fail_on: high\nchecks_dir: evil\n")
    ctx.write("evil/pg901_x.py", "import os\n\nos._exit(0)\n")


LEAK_CHECK = """\
import os
import pathlib

from planguard.findings import CheckMeta, Severity

pathlib.Path({leak!r}).write_text(os.environ.get("PLANGUARD_GITHUB_TOKEN", ""))

META = CheckMeta(
    id="PG901",
    slug="nothing",
    title="Nothing",
    severity=Severity.LOW,
    rationale="A check that finds nothing.",
    remediation="None.",
)


def check(ctx):
    return iter(())
"""


def _checks_leak(ctx: Ctx) -> None:
    ctx.write(".planguard.yml", "fail_on: high\nchecks_dir: evil\n")
    ctx.write("evil/pg901_x.py", LEAK_CHECK.format(leak=str(ctx.tmp / "leaked-token")))


def _leak_note(ctx: Ctx) -> None:
    leaked = (ctx.tmp / "leaked-token").exists()
    ctx.notes.append(f"token leaked: {'yes' if leaked else 'no'}")


def _own_ack(ctx: Ctx) -> None:
    version = ctx.ack("infra/plan.json", "mallory", "mine")
    if version == 1:
        # This planguard knows format 1 only: the hand-written (address, action) file.
        (ctx.root / ".planguard-ack.json").write_text(json.dumps(ACK_V1, indent=2) + "\n")
        ctx.notes.append("hand-written ack v1 (its only format)")
    else:
        ctx.notes.append(f"ack v{version} written by its `planguard ack`")


def _narrow_ack_on_base(ctx: Ctx) -> None:
    ctx.copy(SG_NARROW, "infra/plan.json")
    version = ctx.ack("infra/plan.json", "carol", "8080 for the canary")
    ctx.notes.append(f"base ack v{version} of the 8080 plan, by its `planguard ack`")


def _widen(ctx: Ctx) -> None:
    ctx.copy(SG_WIDER, "infra/plan.json")


def _approval(
    login: str, role: str = "write", kind: str = "User", pushed: bool = False
) -> Callable[[Ctx], None]:
    def api(ctx: Ctx) -> None:
        ctx.api.permissions[login.lower()] = role
        if pushed:
            ctx.api.commit(login, login)
        ctx.api.review(login, ctx.head_sha, kind)

    return api


def _errored_plan(ctx: Ctx) -> None:
    ctx.copy(ERRORED_PLAN, "infra/plan.json")


def _sensitive_plan(ctx: Ctx) -> None:
    ctx.copy(SENSITIVE_PLAN, "infra/plan.json")


def _planted_comment(ctx: Ctx) -> None:
    ctx.extra_env["PLANGUARD_COMMENT_KEY"] = COMMENT_KEY
    ctx.api.comments.append(
        {
            "id": 1,
            "body": f"{MARKER}\n{key_line(COMMENT_KEY)}\n**✅ planguard gate: passes** (planted)",
            "user": {"login": "mallory", "type": "User"},
            "html_url": f"https://github.test/{REPO}/pull/{PR_NUMBER}#issuecomment-1",
        }
    )


def _patched_note(ctx: Ctx) -> None:
    ctx.notes.append(f"patched someone else's comment: {'yes' if ctx.api.patched(1) else 'no'}")


def _ack_on_base(ctx: Ctx) -> None:
    version = ctx.ack("infra/plan.json", "carol", "retiring billing")
    ctx.notes.append(f"base ack v{version}, by its `planguard ack`")


CASES = [
    Case("1", "PR adds `disable: [PG101]`", _policy("fail_on: high\ndisable: [PG101]\n")),
    Case(
        "2",
        "PR adds an `ignore` of PG101 for `address: '*'`",
        _policy(
            "fail_on: high\nignore:\n  - check: PG101\n    address: '*'\n"
            "    reason: decommissioning billing\n"
        ),
    ),
    Case(
        "3", "PR adds `severity: {PG101: low}`", _policy("fail_on: high\nseverity: {PG101: low}\n")
    ),
    Case(
        "4",
        "PR sets `fail_on: critical` + `severity: {PG101: high}`",
        _policy("fail_on: critical\nseverity: {PG101: high}\n"),
    ),
    Case("5", "PR adds infra/pyproject.toml disabling PG101 (cwd infra/)", _pyproject),
    Case("6", "PR adds `# planguard:ignore PG101 fine` in infra/main.tf", _inline_ignore),
    Case("7", "PR adds `checks_dir: evil`, a check calling `os._exit(0)` at import", _checks_exit),
    Case(
        "8",
        "PR adds `checks_dir: evil`, a check writing the token to a file",
        _checks_leak,
        after=_leak_note,
    ),
    Case("9", "PR commits its own .planguard-ack.json", _own_ack),
    Case(
        "10",
        "Ack stretch: base acks port 8080, PR widens to 22, 3389, 0-65535",
        _widen,
        base=_narrow_ack_on_base,
    ),
    Case("11", "Approval by `bob` with `read` permission", api=_approval("bob", "read")),
    Case(
        "12", "Approval by `bob`, who pushed a commit to the PR", api=_approval("bob", pushed=True)
    ),
    Case(
        "13",
        "Approval by `Deploy-Agent-7`; base `automation: {patterns: [deploy-agent*]}`",
        base=_policy('fail_on: high\nautomation: {patterns: ["deploy-agent*"]}\n'),
        api=_approval("Deploy-Agent-7"),
    ),
    Case(
        "14", "Approval by `renovate[bot]` (type Bot)", api=_approval("renovate[bot]", kind="Bot")
    ),
    Case(
        "15",
        "Base has `disable: [PG001]`; PR's plan errored (PG001/bad.json)",
        _errored_plan,
        base=_policy("fail_on: high\ndisable: [PG001]\n"),
    ),
    Case(
        "16",
        "`deletion_protection = sensitive(false)` (PG105/bad-sensitive.json), `planguard review`",
        base=_sensitive_plan,
        review_only=True,
    ),
    Case(
        "17",
        "A user's comment holds the marker and key line",
        api=_planted_comment,
        after=_patched_note,
    ),
    Case("L1", "Approval by `bob` (write, pushed nothing) of the head", api=_approval("bob")),
    Case("L2", "An ack already on the base matching the plan", base=_ack_on_base),
    Case(
        "L3",
        "`disable: [PG101]` already on the base",
        base=_policy("fail_on: high\ndisable: [PG101]\n"),
    ),
]


# --- tables ---------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(results: list[Result]) -> str:
    rows = ["| situation | exit | verdict | note |", "|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r.key}. {_cell(r.title)} | {r.exit} | {r.verdict} | {_cell(r.note)} |")
    return "\n".join(rows) + "\n"


def combined(before: list[Result], after: list[Result]) -> str:
    old = {r.key: r for r in before}
    rows = [
        "| situation | before (exit, verdict) | after (exit, verdict) |",
        "|---|---|---|",
    ]

    def cell(r: Result | None) -> str:
        if r is None:
            return "not run"
        note = f"; {r.note}" if r.note else ""
        return _cell(f"{r.exit}, {r.verdict}{note}")

    for r in after:
        rows.append(f"| {r.key}. {_cell(r.title)} | {cell(old.get(r.key))} | {cell(r)} |")
    return "\n".join(rows) + "\n"


def _load(path: str) -> list[Result]:
    return [Result(**doc) for doc in json.loads(Path(path).read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--planguard", help="the planguard executable to test")
    parser.add_argument("--only", help="situations to run, comma-separated (e.g. 1,9,L1)")
    parser.add_argument("--json", help="also write the results here, for --combine")
    parser.add_argument("--keep", action="store_true", help="keep each situation's temp dir")
    parser.add_argument(
        "--combine", nargs=2, metavar=("BEFORE", "AFTER"), help="join two --json results"
    )
    args = parser.parse_args(argv)
    if args.combine:
        sys.stdout.write(combined(_load(args.combine[0]), _load(args.combine[1])))
        return 0
    if not args.planguard:
        parser.error("--planguard is required (or --combine)")
    planguard = shutil.which(args.planguard) or args.planguard
    planguard = os.path.abspath(planguard)
    wanted = set(args.only.split(",")) if args.only else None
    results = []
    for case in CASES:
        if wanted is None or case.key in wanted:
            results.append(run_case(case, planguard, args.keep))
            print(f"{case.key}: {results[-1].exit} {results[-1].verdict}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    sys.stdout.write(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
