"""What the guard answers to one tool call.

- Not an infrastructure change and not the gate: allow at once (and no log
  entry: the log is of decisions about infrastructure and the gate).
- `apply PLANFILE`: the plan is reviewed; pass → allow, blocked → ask a
  person where the host can ask, else deny, with the review's words.
- Other changes planguard cannot review (apply without a saved plan,
  destroy, state surgery, CloudFormation, CDK and SAM executions): deny,
  with the commands that make a plan it can review.
- `planguard ack`, the guard's own install, and writes to the policy,
  acknowledgements, user checks, the hook settings or the decision log:
  deny; the agent may not lower the gate it is held to.
- A command it cannot read: deny when it names an infrastructure tool,
  planguard or a file of the gate (it cannot be checked, so it does not
  pass); else allow. Denying every command shlex cannot split would stop
  an agent on here-documents and one-liners that touch no infrastructure,
  and a guard people switch off protects nothing.
"""

from __future__ import annotations

import os
import re

from planguard.guard import infra, protect, shell, unwrap
from planguard.guard.hosts import Call
from planguard.guard.verdict import ALLOW, ASK, DENY, NOTHING, Decision, deny

_RANK = {ALLOW: 0, ASK: 1, DENY: 2}

# What an unreadable command must not name to be let through.
_MENTIONS_PATTERN = (
    r"\b(terraform|tofu|terragrunt|cloudformation|cdk|sam|planguard)\b|"
    r"\.planguard|planguard-ack|pyproject\.toml|\.claude|\.cursor|\.gemini|\.kiro"
)
_MENTIONS: re.Pattern[str] | None = None


def _mentions(command: str) -> re.Match[str] | None:
    """Where `command` names an infrastructure tool, planguard or its files.
    (Compiled on first use: most calls never need it.)"""
    global _MENTIONS
    if _MENTIONS is None:
        _MENTIONS = re.compile(_MENTIONS_PATTERN, re.IGNORECASE)
    return _MENTIONS.search(command)


def decide(call: Call) -> Decision:
    if call.kind == "write":
        return _combine([_write(w.path, w.after, call.tool) for w in call.writes])
    if call.kind == "shell":
        return _shell(call.command, call.cwd, call.host)
    return NOTHING


def _write(path: str, after: str | None, tool: str) -> Decision:
    what = protect.protected(path)
    if os.path.basename(path) == "pyproject.toml" and after is not None:
        if not protect.pyproject_policy_changed(path, after):
            return NOTHING
        what = "pyproject.toml's [tool.planguard] table, planguard's policy"
    if what is None:
        return NOTHING
    return _gate(f"{tool} writes to {what}")


def _gate(why: str) -> Decision:
    return deny(
        f"planguard: denied: {why}. The agent may not lower the gate it is held to; "
        "ask a person to make this change."
    )


def _shell(command: str, cwd: str, host: str) -> Decision:
    try:
        commands = shell.parse(command, cwd)
        runs = list(unwrap.runs(commands))
    except shell.Unparsable as exc:
        mention = _mentions(command)
        if mention is None:
            return NOTHING
        return deny(
            f"planguard: denied: this command cannot be read ({exc}) and it names "
            f"{mention.group(0)}; a command planguard cannot read cannot be checked. "
            "Write it as plain commands, one infrastructure change per command."
        )
    decisions = [_gate(why) for why in _gate_writes(runs, command)]
    dynamic = any(r.argv and ("$" in r.argv[0] or "`" in r.argv[0]) for r in runs)
    mention = _mentions(command) if dynamic else None
    for index, run in enumerate(runs):
        hit = infra.recognise(run)
        if hit is not None:
            decisions.append(_change(hit, runs[:index], host, cwd))
        elif mention and run.argv and ("$" in run.argv[0] or "`" in run.argv[0]):
            decisions.append(
                deny(
                    f"planguard: denied: which program `{run.argv[0]}` runs is known only when "
                    f"it runs, and this command names {mention.group(0)}. Name the program."
                )
            )
    if "TF_CLI_ARGS" in command and any(d.plan for d in decisions):
        decisions.append(
            deny(
                "planguard: denied: TF_CLI_ARGS adds arguments to terraform that the review does "
                "not see. Apply the saved plan without it."
            )
        )
    return _combine(decisions)


def _gate_writes(runs: list[unwrap.Run], text: str) -> list[str]:
    """Why the command line lowers the gate, for each way it does."""
    out = []
    targets: list[tuple[str, str | None]] = []
    for run in runs:
        why = protect.gate_command(run)
        if why is not None:
            out.append(why)
        targets += run.writes
        targets += [(t, run.cwd) for t in protect.written(run)]
    for target, cwd in targets:
        what = protect.protected(target, cwd)
        if what is None and os.path.basename(target) == "pyproject.toml" and "planguard" in text:
            what = "pyproject.toml, where planguard's policy can live ([tool.planguard])"
        if what is not None:
            out.append(f"this command writes to {what}")
    return list(dict.fromkeys(out))


def _combine(decisions: list[Decision]) -> Decision:
    worst = max((d.verdict for d in decisions), key=_RANK.__getitem__, default=ALLOW)
    if worst == ALLOW:
        noted = [d for d in decisions if d.noted]
        if not noted:
            return NOTHING
        return noted[0] if len(noted) == 1 else _joined(noted, ALLOW)
    chosen = [d for d in decisions if d.verdict == worst]
    return chosen[0] if len(chosen) == 1 else _joined(chosen, worst)


def _joined(decisions: list[Decision], verdict: str) -> Decision:
    first = decisions[0]
    return Decision(
        verdict,
        first.headline
        if len(decisions) == 1
        else f"{first.headline} (and {len(decisions) - 1} more)",
        "\n\n".join(d.person for d in decisions),
        "\n\n".join(d.agent for d in decisions),
        plan=first.plan,
        digest=first.digest,
        approved=first.approved,
    )


# -- infrastructure changes ----------------------------------------------------------


def _change(hit: infra.Hit, before: list[unwrap.Run], host: str, base: str) -> Decision:
    if hit.kind == infra.SAVED_PLAN:
        return _saved_plan(hit, before, host, base)
    return deny(unreviewable(hit))


def _saved_plan(hit: infra.Hit, before: list[unwrap.Run], host: str, base: str) -> Decision:
    plan, where = hit.plan, hit.cwd
    if plan is None or where is None:
        return deny(
            f"planguard: denied: `{hit.what}` applies a saved plan, but which file (or in "
            "which directory) cannot be told from this command. Apply it with a plain path: "
            f"`{_tool(hit)} apply tfplan`."
        )
    shown = os.path.relpath(plan, base)
    shown = plan if shown.startswith("..") else shown
    if _rewritten(plan, before):
        return deny(
            f"planguard: denied: {shown} is written earlier in this same command, so the plan "
            f"applied is not one planguard could review. Make the plan in one command "
            f"(`{_tool(hit)} plan -out={os.path.basename(plan)}`), then apply it in another."
        )
    if not os.path.isfile(plan):
        return deny(
            f"planguard: denied: there is no plan file {shown} to review. Make it first "
            f"(`{_tool(hit)} plan -out={os.path.basename(plan)}`), then apply it."
        )
    from planguard.errors import PlanguardError
    from planguard.guard import planreview

    try:
        outcome = planreview.review(plan, where, shown, actor=f"{host}-agent[bot]")
    except PlanguardError as exc:
        return deny(
            f"planguard: denied: {shown} could not be reviewed ({planreview.plain(str(exc))}); "
            "a plan that cannot be reviewed is not applied."
        )
    if outcome.passed:
        return Decision(
            ALLOW, outcome.headline, plan=plan, digest=outcome.digest, approved=outcome.approved
        )
    person = (
        f"{outcome.text}\n"
        f"Allow only if you accept this plan (SHA-256 {outcome.digest[:12]}…) as it is."
    )
    agent = (
        f"{outcome.text}\n"
        "Do not apply this plan. Fix the configuration as the review says and make a new plan, "
        f"or stop and ask a person: they can review and apply it at their own terminal with "
        f"`planguard apply {shown}` (it asks them to type a confirmation), or acknowledge the "
        "findings."
    )
    return Decision(ASK, outcome.headline, person, agent, plan=plan, digest=outcome.digest)


def _rewritten(plan: str, before: list[unwrap.Run]) -> bool:
    """Whether the command line writes the plan file before it applies it."""
    name = os.path.basename(plan)

    def same(path: str, cwd: str | None) -> bool:
        full = shell.resolve(cwd, path)
        return full == plan if full is not None else os.path.basename(path) == name

    for run in before:
        if run.name in ("terraform", "tofu", "terragrunt"):
            flags, _ = infra.go_flags(run.argv[1:], frozenset({"out"}))
            if "out" in flags and same(flags["out"], run.cwd):
                return True
        if any(same(p, run.cwd) for p in protect.written(run)):
            return True
        if any(same(p, cwd) for p, cwd in run.writes):
            return True
    return False


def _tool(hit: infra.Hit) -> str:
    return f"{hit.tool} -chdir={hit.chdir}" if hit.chdir else hit.tool


def unreviewable(hit: infra.Hit) -> str:
    """Why `hit` is denied, and the commands that make a plan planguard can review."""
    tool = _tool(hit)
    review = f"`{tool} plan -out=tfplan`, then `{tool} apply tfplan` as a command of its own"
    cs = (
        "`aws cloudformation describe-change-set --stack-name STACK --change-set-name NAME "
        "> cs.json` and `planguard review cs.json`; a person executes it once the review passes"
    )
    person = "ask a person to run it at their own terminal"
    texts = {
        infra.APPLY: f"`{hit.what}` without a saved plan applies changes no one has reviewed. "
        f"Make a plan planguard can review: {review}.",
        infra.DESTROY: f"`{hit.what}` destroys every resource of this configuration, and no plan "
        f"of it has been reviewed. Make a destroy plan planguard can review: `{tool} plan "
        f"-destroy -out=tfplan`, then `{tool} apply tfplan`.",
        infra.TAINT: f"`{hit.what}` forces a replacement outside any plan. Plan it instead: "
        f"`{tool} plan -replace=ADDRESS -out=tfplan`, then `{tool} apply tfplan`.",
        infra.WORKSPACE_DELETE: f"`{hit.what}` discards a workspace's state (with -force even "
        f"while it still manages resources); {person}.",
        infra.MULTI: f"`{hit.what}` applies every module below here, none of them reviewed. "
        "Plan each module with `terragrunt plan -out=tfplan` and apply each saved plan on its "
        "own (`terragrunt apply tfplan`).",
    }
    if hit.kind == infra.STATE:
        if hit.what.endswith("rm"):
            text = (
                f"`{hit.what}` makes Terraform forget resources outside any plan (they are no "
                "longer managed, and an apply may create them again). Use a `removed` block "
                f"(Terraform 1.7+) and {review}; or {person}."
            )
        else:
            text = f"`{hit.what}` overwrites the state outside any plan; {person}."
    elif hit.kind == infra.CFN:
        what = hit.what
        if hit.op == "deploy":
            text = (
                f"`{what}` creates and executes a change set at once. Make one planguard can "
                f"review: add `--no-execute-changeset`, then {cs}."
            )
        elif hit.op == "execute-change-set":
            text = f"`{what}` executes a change set planguard has not reviewed. Review it: {cs}."
        elif hit.op.startswith("delete"):
            text = f"`{what}` deletes the stack and every resource it holds; {person}."
        else:
            text = (
                f"`{what}` changes the stack without a change set to review. Create one "
                f"(`aws cloudformation create-change-set …`), then {cs}."
            )
    elif hit.kind == infra.CDK:
        if hit.op == "destroy":
            text = f"`{hit.what}` deletes the app's stacks and what they hold; {person}."
        else:
            text = (
                f"`{hit.what}` executes its change sets at once. Prepare them without executing "
                f"(`cdk deploy --no-execute`), then {cs}."
            )
    elif hit.kind == infra.SAM:
        if hit.op == "delete":
            text = f"`{hit.what}` deletes the stack and what it holds; {person}."
        else:
            text = (
                f"`{hit.what}` deploys without a reviewed change set. Use `sam deploy "
                f"--no-execute-changeset`, then {cs}."
            )
    else:
        text = texts[hit.kind]
    return f"planguard: denied: {text}"
