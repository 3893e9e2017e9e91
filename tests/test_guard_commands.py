"""What the guard recognises in a shell command, read through a real parse:
each command goes into the recorded Claude Code payload (fixtures/guard/)
in place of the harmless one."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.guard import decide, main, protect, unwrap, verdict

PAYLOAD = FIXTURES / "guard" / "claude" / "harmless.json"
WRITE = FIXTURES / "guard" / "claude" / "write-policy.json"


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANGUARD_GUARD_LOG", str(tmp_path / "guard.log"))


def guard(command: str, cwd: Path) -> tuple[str, str]:
    """(decision, reason) for `command` run in `cwd`."""
    payload = json.loads(PAYLOAD.read_text())
    payload["tool_input"]["command"] = command
    payload["cwd"] = str(cwd)
    return _answer(payload)


def _answer(payload: dict[str, object]) -> tuple[str, str]:
    out = io.StringIO()
    assert main(["--host", "claude"], json.dumps(payload).encode(), out, io.StringIO()) == 0
    if not out.getvalue():
        return "allow", ""
    answer = json.loads(out.getvalue())["hookSpecificOutput"]
    return answer["permissionDecision"], answer["permissionDecisionReason"]


ALLOWED = [
    "ls -la",
    "terraform plan -out=tfplan",
    "terraform -chdir=infra plan -out=tfplan",
    "terraform init && terraform validate && terraform fmt -check",
    "terraform state list",
    "terraform workspace list",
    "terraform show -json tfplan > plan.json",
    "terragrunt run-all plan",
    "aws cloudformation deploy --template-file t.yml --stack-name s --no-execute-changeset",
    "aws cloudformation describe-change-set --stack-name s --change-set-name c > cs.json",
    "npx cdk deploy --no-execute",
    "cdk synth",
    "sam build && sam deploy --no-execute-changeset",
    "planguard review tfplan",
    "planguard guard log --verify",
    "cat .planguard.yml && cp .planguard.yml /tmp/backup.yml",
    'git commit -m "terraform destroy the old environment"',
    "which terraform && terraform version",
    'echo "unclosed',  # unreadable, but names nothing of the gate: allowed
    "cat > notes.md <<'EOF'\nterraform's plan, and the stack's\nEOF",
    "command -v terraform",
]


@pytest.mark.parametrize("command", ALLOWED)
def test_commands_that_change_nothing_are_allowed(command: str, tmp_path: Path) -> None:
    assert guard(command, tmp_path) == ("allow", "")


DENIED = [
    ("terraform apply", "without a saved plan"),
    ("terraform apply -auto-approve -input=false", "without a saved plan"),
    ("/usr/local/bin/terraform apply -auto-approve", "without a saved plan"),
    ("tofu destroy -auto-approve", "`tofu destroy` destroys"),
    ("terraform -chdir=infra destroy", "`terraform -chdir=infra plan -destroy -out=tfplan`"),
    ("terraform apply -destroy -auto-approve", "`terraform apply -destroy`"),
    ("sudo -u ops terraform destroy", "terraform destroy"),
    ("time nohup terraform destroy &", "terraform destroy"),
    ("TF_LOG=debug env AWS_PROFILE=prod terraform destroy", "terraform destroy"),
    ("cd infra; terraform destroy", "terraform destroy"),
    ("true && terraform destroy", "terraform destroy"),
    ("false || terraform destroy", "terraform destroy"),
    ("sh -c 'terraform destroy'", "terraform destroy"),
    ("bash -lc 'cd infra && terraform apply -auto-approve'", "without a saved plan"),
    ('echo "$(terraform destroy -auto-approve)"', "terraform destroy"),
    ("echo `terraform destroy -auto-approve`", "terraform destroy"),
    ("bash <<EOF\nterraform destroy -auto-approve\nEOF", "terraform destroy"),
    ("aws-vault exec prod -- terraform destroy", "terraform destroy"),
    ('ssh bastion "terraform destroy -auto-approve"', "terraform destroy"),
    ("terraform state rm aws_db_instance.main", "`removed` block"),
    ("terraform state push old.tfstate", "overwrites the state"),
    ("terraform taint aws_instance.web", "-replace=ADDRESS"),
    ("terraform workspace delete -force staging", "discards a workspace's state"),
    ("terragrunt run --all apply", "applies every module"),
    ("terragrunt run-all destroy", "terragrunt run --all destroy"),
    ("terragrunt apply -auto-approve", "without a saved plan"),
    ("aws cloudformation deploy --template-file t.yml --stack-name shop", "--no-execute-changeset"),
    ("aws cloudformation execute-change-set --change-set-name c", "not reviewed"),
    ("aws --region eu-west-1 cloudformation update-stack --stack-name shop", "create-change-set"),
    ("aws cloudformation delete-stack --stack-name shop", "deletes the stack"),
    ("npx cdk deploy --all --require-approval never", "cdk deploy --no-execute"),
    ("cdk destroy --force", "deletes the app's stacks"),
    ("sam deploy --guided", "--no-execute-changeset"),
    ("sam delete --stack-name shop", "deletes the stack"),
    ("planguard ack tfplan --by me --reason ok", "may not acknowledge"),
    ("python -m planguard ack tfplan --by me --reason ok", "may not acknowledge"),
    ("planguard guard install --host claude --uninstall", "changes the hook"),
    ("echo 'disable: [PG106]' > .planguard.yml", ".planguard.yml, planguard's policy"),
    ("sed -i 's/high/critical/' .planguard.yaml", "planguard's policy"),
    ("tee .planguard-ack.json < /tmp/ack.json", "an acknowledgement file"),
    ("cp /tmp/lax.yml infra/.planguard.yml", "planguard's policy"),
    ("mv .planguard.yml /tmp/", "planguard's policy"),
    ("git checkout HEAD~3 -- .planguard.yml", "planguard's policy"),
    ("rm -f .claude/settings.json", ".claude/settings.json, the agent's hooks"),
    ("echo '{}' > .kiro/agents/default.json", "the agent's hooks"),
    ("echo x >> .planguard/guard.log", "planguard's decision log"),
    ("bash -c 'echo fail_on: critical > .planguard.yml'", "planguard's policy"),
    ("sh -c 'cd infra && echo {} > ../.claude/settings.json'", "the agent's hooks"),
    ("> .planguard-ack.json", "an acknowledgement file"),
    ("env -C infra terraform show > ../.planguard.yml", "planguard's policy"),
    ('echo "terraform destroy', "cannot be read (no closing quotation) and it names terraform"),
    ("terraform apply tfplan", "there is no plan file tfplan"),
    (
        "terraform plan -out=tfplan && terraform apply tfplan",
        "written earlier in this same command",
    ),
    ("cp other.plan tfplan && terraform apply tfplan", "written earlier in this same command"),
    ("terraform apply $PLAN", "which file"),
    ("cd $DIR && terraform apply tfplan", "which file"),
    ("echo tfplan | xargs terraform apply", "which file"),
    ("T=terraform; $T destroy -auto-approve", "which program `$T` runs"),
    ("$(echo terraform) destroy", "which program"),
    ('ter""raform destroy', "terraform destroy"),
    ("t\\erraform destroy", "terraform destroy"),
    ("terra\\\nform destroy", "terraform destroy"),
]


@pytest.mark.parametrize(("command", "why"), DENIED)
def test_changes_and_the_gate_are_denied(command: str, why: str, tmp_path: Path) -> None:
    decision, reason = guard(command, tmp_path)
    assert decision == "deny"
    assert why in reason


def test_a_plan_written_after_the_apply_is_no_concern(tmp_path: Path) -> None:
    decision, reason = guard("terraform apply tfplan && rm tfplan", tmp_path)
    assert decision == "deny" and "no plan file" in reason  # not "written earlier"


def test_a_relative_write_counts_where_the_shell_is(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    decision, reason = guard("echo '{}' > settings.json", tmp_path / ".claude")
    assert decision == "deny" and "the agent's hooks" in reason


def test_the_quick_screen_knows_every_rule() -> None:
    """A command with none of verdict.NEEDLES is allowed without a parse; each
    rule's words must hold one."""
    needles = verdict.NEEDLES
    for name in unwrap.WATCHED - {"aws"}:  # aws counts with `cloudformation` only
        assert any(n in name for n in needles), name
    names = [*protect.POLICY_NAMES, protect.LOG_DIR, ".planguard-ack.json", "pyproject.toml"]
    names += [".kiro" if d == "agents" else d for d, _ in protect.HOOK_SETTINGS]
    for name in names:
        assert any(n in name for n in needles), name
    for word in decide._MENTIONS_PATTERN.replace("\\b", "").replace("\\", "").split("|"):
        word = word.strip("()")
        assert any(n in word for n in needles), word


def test_terraform_arguments_from_the_environment_are_not_reviewed(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "terraform" / "real" / "moved" / "output.json", tmp_path / "tfplan")
    assert guard("terraform apply tfplan", tmp_path) == ("allow", "")
    decision, reason = guard("TF_CLI_ARGS_apply=-destroy terraform apply tfplan", tmp_path)
    assert decision == "deny" and "TF_CLI_ARGS" in reason


def test_every_denial_in_one_command_is_given(tmp_path: Path) -> None:
    decision, reason = guard("terraform destroy; planguard ack x --by a --reason b", tmp_path)
    assert decision == "deny"
    assert "terraform destroy" in reason and "may not acknowledge" in reason


def write(tool: str, path: Path, **tool_input: str) -> tuple[str, str]:
    payload = json.loads(WRITE.read_text())
    payload["cwd"] = str(path.parent)
    payload["tool_name"] = tool
    payload["tool_input"] = {"file_path": str(path), **tool_input}
    return _answer(payload)


def test_file_tools_may_not_write_the_gate(tmp_path: Path) -> None:
    assert write("Write", tmp_path / ".planguard.yml", content="fail_on: critical\n")[0] == "deny"
    assert write("Write", tmp_path / ".claude" / "settings.local.json", content="{}")[0] == "deny"
    assert write("Write", tmp_path / ".kiro" / "agents" / "a.json", content="{}")[0] == "deny"
    assert write("Write", tmp_path / "main.tf", content='resource "x" "y" {}\n')[0] == "allow"
    assert write("Write", tmp_path / "agents" / "notes.json", content="{}")[0] == "allow"


def test_pyproject_is_the_agents_but_its_planguard_table(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.planguard]\nfail_on = "high"\n')
    edit = write("Edit", pyproject, old_string='name = "x"', new_string='name = "y"')
    assert edit == ("allow", "")
    lowered = write("Edit", pyproject, old_string='"high"', new_string='"critical"')
    assert lowered[0] == "deny" and "[tool.planguard]" in lowered[1]
    added = tmp_path / "sub" / "pyproject.toml"
    added.parent.mkdir()
    added.write_text('[project]\nname = "z"\n')
    content = '[project]\nname = "z"\n\n[tool.planguard]\ndisable = ["PG101"]\n'
    assert write("Write", added, content=content)[0] == "deny"
    shell = guard("echo '[tool.planguard]' >> pyproject.toml", tmp_path)
    assert shell[0] == "deny"


def test_user_checks_named_by_the_policy_are_the_gate(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".planguard.yml").write_text("checks_dir: policy_checks\n")
    (tmp_path / "policy_checks").mkdir()
    check = tmp_path / "policy_checks" / "pg901_tags.py"
    assert write("Write", check, content="")[0] == "deny"
    assert write("Write", tmp_path / "app.py", content="")[0] == "allow"
    assert guard("echo pass > policy_checks/pg901_tags.py", tmp_path)[0] == "deny"


def test_planguards_cache_is_part_of_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the cache keeps decides how a later review reads its sources and
    runs its report templates (compiled code): an agent may not plant it."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    templates = home / ".cache" / "planguard" / "templates" / "x.cache"
    decision, reason = write("Write", templates, content="planted")
    assert decision == "deny" and "planguard's cache" in reason
    decision, reason = guard("echo planted > ~/.cache/planguard/hcl/0123", work)
    assert decision == "deny" and "planguard's cache" in reason
    monkeypatch.setenv("PLANGUARD_CACHE_DIR", str(tmp_path / "shared-cache"))
    decision, _ = write("Write", tmp_path / "shared-cache" / "hcl" / "0123", content="planted")
    assert decision == "deny"
    # Next door is the agent's.
    assert write("Write", home / ".cache" / "pip" / "x", content="x")[0] == "allow"
    assert write("Write", home / ".cache" / "planguard-notes.txt", content="x")[0] == "allow"
