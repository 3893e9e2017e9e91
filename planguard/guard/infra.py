"""Which runs change infrastructure, and how.

Recognised: Terraform and OpenTofu `apply` (with a saved plan or without),
`destroy`, `apply -destroy`, `state rm`/`state push`, `taint`, `workspace
delete`, also through Terragrunt; `aws cloudformation deploy` (unless
`--no-execute-changeset`), `execute-change-set`, `update-stack`,
`delete-stack` and their stack-set forms; `cdk deploy` (unless it only
prepares a change set) and `cdk destroy`; `sam deploy`, `sam sync` and
`sam delete`; and `planguard apply PLAN`, which reviews the plan itself.
Everything else is not an infrastructure change.
"""

from __future__ import annotations

from planguard.guard import shell
from planguard.guard.unwrap import Run

# Kinds of change. SAVED_PLAN is reviewed; the others cannot be.
SAVED_PLAN = "saved-plan"
APPLY = "apply"  # apply without a saved plan
DESTROY = "destroy"
STATE = "state"  # state rm / state push
TAINT = "taint"
WORKSPACE_DELETE = "workspace-delete"
MULTI = "multi"  # terragrunt run-all / --all apply
CFN = "cloudformation"
CDK = "cdk"
SAM = "sam"

# Terraform options that take a value as the next word (Go's flag package
# accepts `-var x=1` as well as `-var=x=1`).
_TF_VALUES = frozenset(
    [
        "var",
        "var-file",
        "target",
        "replace",
        "exclude",
        "state",
        "state-out",
        "backup",
        "lock-timeout",
        "parallelism",
    ]
)
_TG_VALUES = frozenset(
    [
        "--terragrunt-working-dir",
        "--working-dir",
        "--terragrunt-config",
        "--config",
        "--terragrunt-source",
        "--source",
        "--terragrunt-iam-role",
        "--iam-assume-role",
        "--terragrunt-parallelism",
        "--parallelism",
        "--terragrunt-log-level",
        "--log-level",
        "--terragrunt-tfpath",
        "--tf-path",
        "--queue-include-dir",
        "--queue-exclude-dir",
        "--terragrunt-include-dir",
        "--terragrunt-exclude-dir",
    ]
)
_TG_FLAGS = _TF_VALUES | {option.lstrip("-") for option in _TG_VALUES}
_CDK_VALUES = frozenset(
    [
        "-a",
        "--app",
        "-c",
        "--context",
        "--profile",
        "-r",
        "--role-arn",
        "-o",
        "--output",
        "-p",
        "--plugin",
        "--ca-bundle-path",
        "--method",
        "--change-set-name",
        "--toolkit-stack-name",
        "--exclusively",
        "-e",
        "--parameters",
    ]
)
_AWS_VALUES = frozenset(
    [
        "--region",
        "--profile",
        "--output",
        "--endpoint-url",
        "--query",
        "--color",
        "--cli-read-timeout",
        "--cli-connect-timeout",
        "--ca-bundle",
        "--cli-binary-format",
    ]
)
_CFN_WRITES = {
    "deploy": "deploys the stack: it creates and executes a change set at once",
    "execute-change-set": "executes a change set planguard has not reviewed",
    "update-stack": "updates the stack directly, without a change set to review",
    "delete-stack": "deletes the stack and every resource it holds",
    "update-stack-set": "updates a stack set in every account and region it covers",
    "update-stack-instances": "updates stack instances of a stack set",
    "delete-stack-set": "deletes a stack set",
    "delete-stack-instances": "deletes stack instances, and with them their stacks",
}


class Hit:
    """A run that changes infrastructure. `plan` is the saved plan's path
    (SAVED_PLAN; None when it cannot be told), `tool` the program as the
    person would type it, `what` the words that say what it does, `chdir`
    Terraform's `-chdir` when given, `op` the CloudFormation, CDK or SAM
    operation."""

    __slots__ = ("chdir", "cwd", "kind", "op", "plan", "tool", "what")

    def __init__(
        self,
        kind: str,
        tool: str,
        what: str,
        cwd: str | None,
        plan: str | None = None,
        chdir: str | None = None,
        op: str = "",
    ) -> None:
        self.kind = kind
        self.tool = tool
        self.what = what
        self.cwd = cwd
        self.plan = plan
        self.chdir = chdir
        self.op = op

    def __repr__(self) -> str:
        return f"Hit({self.kind}, {self.what!r}, plan={self.plan!r})"


def recognise(run: Run) -> Hit | None:
    """The change `run` makes, if it is one."""
    name = run.name
    args = run.argv[1:]
    if name in ("terraform", "tofu"):
        return _terraform(name, args, run)
    if name == "terragrunt":
        return _terragrunt(args, run)
    if name == "aws":
        return _cloudformation(args, run)
    if name in ("cdk", "aws-cdk"):
        return _cdk(args, run)
    if name == "sam":
        return _sam(args, run)
    if name == "planguard" and args[:1] == ["apply"]:
        plan = _positional(args[1:], frozenset({"--config", "-c", "--max-size"}))
        return _saved("planguard", "planguard apply", plan, run.cwd, run)
    return None


def go_flags(words: list[str], values: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """Options (by name, without dashes) and positional words, as Go's flag
    package reads them."""
    flags: dict[str, str] = {}
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            positional.extend(words[i:])
            break
        if len(word) < 2 or not word.startswith("-"):
            positional.append(word)
            continue
        name, eq, value = word.lstrip("-").partition("=")
        if not eq and name in values and i < len(words):
            value = words[i]
            i += 1
        flags[name] = value if (eq or name in values) else "true"
    return flags, positional


def _terraform(tool: str, args: list[str], run: Run) -> Hit | None:
    chdir = None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        option, _, value = args[i].lstrip("-").partition("=")
        if option == "chdir":
            chdir = value
        i += 1
    if i >= len(args):
        return None
    return _subcommand(tool, args[i], args[i + 1 :], run, chdir)


def _subcommand(
    tool: str,
    sub: str,
    rest: list[str],
    run: Run,
    chdir: str | None = None,
    values: frozenset[str] = _TF_VALUES,
) -> Hit | None:
    where = run.cwd if chdir is None else shell.resolve(run.cwd, chdir)
    if sub == "apply":
        flags, positional = go_flags(rest, values)
        if flags.get("destroy", "false") != "false":
            return Hit(DESTROY, tool, f"{tool} apply -destroy", where, chdir=chdir)
        if positional:
            return _saved(tool, f"{tool} apply", positional[0], where, run, chdir)
        if run.more_args:
            return Hit(SAVED_PLAN, tool, f"{tool} apply", where, None, chdir)
        return Hit(APPLY, tool, f"{tool} apply", where, chdir=chdir)
    if sub == "destroy":
        return Hit(DESTROY, tool, f"{tool} destroy", where, chdir=chdir)
    _, positional = go_flags(rest, values)
    if sub == "state" and positional[:1] in (["rm"], ["push"]):
        return Hit(STATE, tool, f"{tool} state {positional[0]}", where, chdir=chdir)
    if sub == "taint":
        return Hit(TAINT, tool, f"{tool} taint", where, chdir=chdir)
    if sub == "workspace" and positional[:1] == ["delete"]:
        return Hit(WORKSPACE_DELETE, tool, f"{tool} workspace delete", where, chdir=chdir)
    return None


def _saved(
    tool: str, what: str, plan: str | None, where: str | None, run: Run, chdir: str | None = None
) -> Hit:
    path = shell.resolve(where, plan) if plan else None
    if run.more_args:
        path = None  # xargs may add words before the plan's
    return Hit(SAVED_PLAN, tool, what, where, path, chdir)


def _terragrunt(args: list[str], run: Run) -> Hit | None:
    cwd = run.cwd
    for i, word in enumerate(args):  # options may come before or after the command
        option, eq, value = word.partition("=")
        if option in ("--terragrunt-working-dir", "--working-dir"):
            cwd = shell.resolve(cwd, value if eq else (args[i + 1] if i + 1 < len(args) else ""))
    multi = False
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word in ("--all", "-a", "--run-all"):
            multi = True
        elif word.startswith("-"):
            if word in _TG_VALUES:
                i += 1
        elif word in ("run", "run-all", "stack"):
            multi = multi or word != "run"
        else:
            break
    else:
        return None
    if word in ("apply-all", "destroy-all"):
        multi, word = True, word.removesuffix("-all")
    rest = [a for a in args[i:] if a not in ("--all", "-a", "--run-all")]
    multi = multi or len(rest) < len(args[i:])
    hit = _subcommand("terragrunt", word, rest, Run(run.argv, cwd, run.more_args), values=_TG_FLAGS)
    if hit is not None and multi and hit.kind in (APPLY, SAVED_PLAN):
        return Hit(MULTI, "terragrunt", "terragrunt run --all apply", cwd)
    if hit is not None and multi and hit.kind == DESTROY:
        hit.what = "terragrunt run --all destroy"
    return hit


def _cloudformation(args: list[str], run: Run) -> Hit | None:
    if "cloudformation" not in args:
        return None
    rest = args[args.index("cloudformation") + 1 :]
    op = _positional(rest, _AWS_VALUES)
    if op not in _CFN_WRITES:
        return None
    if op == "deploy" and "--no-execute-changeset" in rest:
        return None
    stack = _value(rest, "--stack-name") or _value(rest, "--stack-set-name")
    what = f"aws cloudformation {op}" + (f" --stack-name {stack}" if stack else "")
    return Hit(CFN, "aws", what, run.cwd, op=op)


def _cdk(args: list[str], run: Run) -> Hit | None:
    sub = _positional(args, _CDK_VALUES)
    if sub == "destroy":
        return Hit(CDK, "cdk", "cdk destroy", run.cwd, op="destroy")
    if sub != "deploy":
        return None
    method = _value(args, "--method")
    if "--no-execute" in args or "--execute=false" in args or method == "prepare-change-set":
        return None
    return Hit(CDK, "cdk", "cdk deploy", run.cwd, op="deploy")


def _sam(args: list[str], run: Run) -> Hit | None:
    sub = _positional(args, frozenset({"--config-file", "--config-env", "-t", "--template"}))
    if sub in ("deploy", "sync") and "--no-execute-changeset" not in args:
        return Hit(SAM, "sam", f"sam {sub}", run.cwd, op=sub)
    if sub == "delete":
        return Hit(SAM, "sam", "sam delete", run.cwd, op="delete")
    return None


def _positional(words: list[str], values: frozenset[str]) -> str | None:
    """The first word that is neither an option nor an option's value."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return words[i + 1] if i + 1 < len(words) else None
        if not word.startswith("-"):
            return word
        i += 2 if (word in values and "=" not in word) else 1
    return None


def _value(words: list[str], option: str) -> str | None:
    for i, word in enumerate(words):
        if word == option and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None
