"""Fail closed: every bad input, bad policy or crash stops the gate with a clear message.

Each case runs the real command line in a subprocess and asserts: exit 2 (bad
input) or 3 (internal error), exactly one line on stderr naming the file and the
problem, and nothing on stdout (so nothing that looks like a pass). The small
inputs live in fixtures/bad/ (see its README for why each is bad); the huge
ones are generated here in tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT

PLANGUARD = [sys.executable, "-m", "planguard"]
BAD = FIXTURES / "bad"
GOOD_PLAN = FIXTURES / "checks/PG101/good.json"

# fixtures/bad/<name>: the words the one error line must contain.
BAD_FILES: dict[str, str] = {
    # not a plan at all
    "empty.json": "empty file",
    "whitespace.json": "empty file",
    "not-json.txt": "not JSON",
    "nul-bytes.json": "not JSON",
    "truncated-plan.json": "truncated",
    "trailing-garbage.json": "trailing characters",
    "non-utf8.json": "not UTF-8",
    "utf16-odd-length.json": "not valid UTF-16",
    "json-array.json": "expected a JSON object",
    "json-string.json": "not JSON",
    "json-null.json": "not JSON",
    # JSON of another kind
    "state-file.json": "state file, not a plan",
    "state-show-json.json": "state JSON, not a plan",
    "tfvars.json": "not a Terraform plan or CloudFormation",
    "cfn-describe-stacks.json": "not a Terraform plan or CloudFormation",
    "cfn-template-resources-list.json": "not a Terraform plan or CloudFormation",
    "yaml-not-template.yaml": "not JSON",
    # format_version and missing sections
    "format-version-99.json": "unsupported plan format_version 99.0",
    "format-version-number.json": "$.format_version",
    "format-version-empty.json": "no format_version",
    "missing-resource-changes.json": "no resource_changes",
    "only-format-version.json": "no planned_values or resource_changes",
    # wrong types in every field the Terraform loader reads
    "terraform-version-number.json": "$.terraform_version",
    "planned-values-list.json": "$.planned_values",
    "resource-changes-object.json": "$.resource_changes",
    "resource-change-string.json": "$.resource_changes[0]",
    "address-number.json": "$.resource_changes[0].address",
    "address-missing.json": "missing required field `address`",
    "address-garbage.json": "bad resource address",
    "previous-address-garbage.json": "bad previous_address",
    "mode-number.json": "$.resource_changes[0].mode",
    "type-list.json": "$.resource_changes[0].type",
    "index-object.json": "$.resource_changes[0].index",
    "module-address-number.json": "$.resource_changes[0].module_address",
    "deposed-bool.json": "$.resource_changes[0].deposed",
    "provider-name-number.json": "$.resource_changes[0].provider_name",
    "action-reason-list.json": "$.resource_changes[0].action_reason",
    "change-missing.json": "missing required field `change`",
    "change-string.json": "$.resource_changes[0].change",
    "actions-string.json": "$.resource_changes[0].change.actions",
    "actions-unknown.json": "actions Terraform never writes",
    "actions-empty.json": "actions Terraform never writes",
    "replace-paths-string.json": "change.replace_paths",
    "importing-string.json": "change.importing",
    "resource-drift-object.json": "$.resource_drift",
    "output-changes-list.json": "$.output_changes",
    "output-change-no-actions.json": "missing required field `actions`",
    "prior-state-string.json": "$.prior_state",
    "prior-state-depends-on-string.json": "depends_on",
    "prior-state-address-garbage.json": "bad address in prior_state",
    "configuration-resources-string.json": "$.configuration.root_module.resources",
    "configuration-address-garbage.json": "bad address in configuration",
    "configuration-module-calls-list.json": "$.configuration.root_module.module_calls",
    "errored-string.json": "$.errored",
    "applyable-string.json": "$.applyable",
    # graph-level problems
    "duplicate-address.json": "duplicate resource change for aws_s3_bucket.logs",
    "dependency-cycle.json": "dependency cycle: aws_s3_bucket.a → aws_s3_bucket.b",
    # CloudFormation
    "cfn-change-set-changes-string.json": "$.Changes",
    "cfn-template-resource-no-type.json": "Type must be a non-empty string",
    "cfn-yaml-duplicate-logical-id.yaml": "Duplicate found 'Bucket'",
    "cfn-yaml-unclosed.yaml": "line 4",
    "billion-laughs.yaml": "YAML alias",
    "cfn-change-set-change-no-resource.json": "a Resource change without ResourceChange",
}

CONFIG_FILES: dict[str, str] = {
    "config-unknown-key.yml": ":2: fial_on: unknown key",
    "config-bad-severity.yml": "unknown severity 'apocalyptic'",
    "config-not-yaml.yml": "invalid YAML",
}

# Everything in fixtures/bad/ is in exactly one table.
_TABLED = {*BAD_FILES, *CONFIG_FILES, "README.md", "build.py"}


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLANGUARD_DEBUG": "0"}
    return subprocess.run(
        [*PLANGUARD, *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_refused(
    out: subprocess.CompletedProcess, shown: str, problem: str, code: int = 2
) -> None:
    """Exit `code`, one stderr line naming `shown` and `problem`, nothing on stdout."""
    detail = f"exit {out.returncode}\nstdout: {out.stdout[:500]!r}\nstderr: {out.stderr[:500]!r}"
    assert out.returncode == code, detail
    assert out.stdout == "", detail
    lines = out.stderr.splitlines()
    assert len(lines) == 1, detail
    assert lines[0].startswith("planguard: error: "), detail
    assert shown in lines[0], detail
    assert problem in lines[0], detail


# Folders of bad inputs with a test module of their own, each with its README.
_FOLDERS = {
    "cfn-consistency": "test_cfn_consistency.py",
    "terraform-contradictions": "test_plan_consistency.py",
    "terraform-duplicate-keys": "test_plan_consistency.py",
    "terraform-wrapper": "test_plan_consistency.py",
}


def test_every_bad_fixture_is_in_a_table() -> None:
    on_disk = {p.name for p in BAD.iterdir() if p.is_file()}
    assert on_disk == _TABLED, on_disk ^ _TABLED
    folders = {p.name for p in BAD.iterdir() if p.is_dir()}
    assert folders == set(_FOLDERS), folders ^ set(_FOLDERS)
    tests = Path(__file__).parent
    for folder, module in _FOLDERS.items():
        assert (BAD / folder / "README.md").is_file(), folder
        assert folder in (tests / module).read_text(encoding="utf-8"), (folder, module)


def test_readme_lists_every_bad_fixture() -> None:
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    missing = [n for n in {*BAD_FILES, *CONFIG_FILES} if f"`{n}`" not in readme]
    assert not missing


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_refused(name: str) -> None:
    path = f"fixtures/bad/{name}"
    assert_refused(run("review", path), path, BAD_FILES[name])


@pytest.mark.parametrize("command", ["summary", "graph"])
@pytest.mark.parametrize(
    "name", ["empty.json", "state-file.json", "format-version-99.json", "non-utf8.json"]
)
def test_other_commands_refuse_too(command: str, name: str) -> None:
    path = f"fixtures/bad/{name}"
    assert_refused(run(command, path), path, BAD_FILES[name])


@pytest.mark.parametrize("name", sorted(CONFIG_FILES))
def test_bad_config_is_refused(name: str) -> None:
    path = f"fixtures/bad/{name}"
    out = run("review", str(GOOD_PLAN.relative_to(ROOT)), "--config", path)
    assert_refused(out, path, CONFIG_FILES[name])


def test_broken_ack_file_is_refused(tmp_path: Path) -> None:
    ack = tmp_path / "ack.json"
    ack.write_text("{", encoding="utf-8")
    out = run("review", str(GOOD_PLAN), "--ack", str(ack))
    assert_refused(out, str(ack), "not a planguard acknowledgement file")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert_refused(run("review", str(tmp_path / "nope.json")), "nope.json", "no such file")
    assert_refused(run("review", str(tmp_path)), str(tmp_path), "is a directory")


# -- missing resource_changes: refused unless the plan really is empty ----------


def test_refresh_only_plan_without_resource_changes_is_accepted(tmp_path: Path) -> None:
    plan = tmp_path / "refresh-only.json"
    plan.write_text(
        '{"format_version": "1.2", "terraform_version": "1.11.4",'
        ' "planned_values": {"root_module": {}}, "applyable": false, "complete": true}',
        encoding="utf-8",
    )
    out = run("review", str(plan), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert "refresh-only or empty plan" in out.stdout


# -- huge inputs, generated --------------------------------------------------------


def test_file_over_the_size_limit_is_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:  # sparse: 1 GiB + 1 MiB of nothing on disk
        fh.truncate((1024 + 1) * 1024 * 1024)
    out = run("review", str(big), timeout=30)
    assert_refused(out, str(big), "over the 1024 MiB limit (raise it with --max-size)")


def test_size_limit_can_be_raised(tmp_path: Path) -> None:
    padded = tmp_path / "padded.json"
    padded.write_bytes(GOOD_PLAN.read_bytes() + b" " * (2 * 1024 * 1024))
    refused = run("review", str(padded), "--max-size", "1")
    assert_refused(refused, str(padded), "over the 1 MiB limit (raise it with --max-size)")
    accepted = run("review", str(padded), "--max-size", "3")
    assert accepted.returncode == 0, accepted.stderr


DEPTH = 10_000


def _deep(kind: str) -> tuple[str, bytes]:
    arrays = "[" * DEPTH + "]" * DEPTH
    objects = '{"a":' * DEPTH + "1" + "}" * DEPTH
    head = '{"format_version":"1.2","planned_values":{"root_module":{}},'
    docs = {
        "top-array.json": arrays,
        "top-object.json": objects,
        "plan-before.json": head + '"resource_changes":[{"address":"aws_s3_bucket.a",'
        '"change":{"actions":["update"],"before":' + arrays + ',"after":{}}}]}',
        "plan-configuration.json": head + '"configuration":{"root_module":{"resources":'
        '[{"address":"aws_s3_bucket.a","expressions":' + objects + "}]}}}",
        "cfn-template.json": '{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":'
        '{"Tags":' + arrays + "}}}}",
        "cfn-template.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      Tags: " + arrays + "\n",
        "cfn-change-set.json": '{"ChangeSetName":"c","StackName":"s","Changes":[{"Type":'
        '"Resource","ResourceChange":{"Action":"Modify","LogicalResourceId":"B",'
        '"ResourceType":"AWS::S3::Bucket","AfterContext":' + arrays + "}}]}",
    }
    return kind, docs[kind].encode()


@pytest.mark.parametrize(
    "kind",
    [
        "top-array.json",
        "top-object.json",
        "plan-before.json",
        "plan-configuration.json",
        "cfn-template.json",
        "cfn-template.yaml",
        "cfn-change-set.json",
    ],
)
def test_deep_nesting_is_refused(tmp_path: Path, kind: str) -> None:
    name, data = _deep(kind)
    path = tmp_path / name
    path.write_bytes(data)
    out = run("review", str(path), timeout=60)
    assert_refused(out, str(path), "nest")


# -- symlink loops -------------------------------------------------------------------


def _manifest(directory: Path, artifacts: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(
        '{"version": "36.0.0", "artifacts": {' + artifacts + "}}", encoding="utf-8"
    )


def test_cdk_out_template_symlink_loop(tmp_path: Path) -> None:
    cdk = tmp_path / "cdk.out"
    _manifest(
        cdk,
        '"App": {"type": "aws:cloudformation:stack", "properties": '
        '{"templateFile": "App.template.json"}}',
    )
    (cdk / "App.template.json").symlink_to("App.template.json")
    out = run("review", str(cdk))
    assert_refused(out, "App.template.json", "symlink loop")


def test_cdk_out_nested_assembly_loop(tmp_path: Path) -> None:
    cdk = tmp_path / "cdk.out"
    _manifest(
        cdk, '"Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "stage"}}'
    )
    (cdk / "stage").symlink_to(".")
    out = run("review", str(cdk))
    assert_refused(out, "stage", "refers to itself")


def test_cdk_out_template_outside_the_assembly(tmp_path: Path) -> None:
    cdk = tmp_path / "cdk.out"
    (tmp_path / "elsewhere.template.json").write_text('{"Resources": {}}', encoding="utf-8")
    _manifest(
        cdk,
        '"App": {"type": "aws:cloudformation:stack", "properties": '
        '{"templateFile": "../elsewhere.template.json"}}',
    )
    out = run("review", str(cdk))
    assert_refused(out, "elsewhere.template.json", "points outside")


def _git_tree(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(root)]
    subprocess.run([*git, "init", "-q", "."], check=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)


QUEUE = 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'


def test_module_tree_symlink_loop(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_tree(repo, {"main.tf": QUEUE})
    with (repo / "main.tf").open("a", encoding="utf-8") as fh:
        fh.write('module "a" {\n  source = "./loop"\n}\n')
    (repo / "loop").symlink_to("loop")
    out = run("review", "--hcl", ".", cwd=repo)
    assert_refused(out, "loop", "cannot read: Too many levels of symbolic links")


def test_module_that_calls_itself_through_a_symlink(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_tree(
        repo,
        {
            "main.tf": 'module "a" {\n  source = "./modules/a"\n}\n',
            "modules/a/main.tf": QUEUE + 'module "again" {\n  source = "./up/a"\n}\n',
        },
    )
    (repo / "modules/a/up").symlink_to("..")
    with (repo / "main.tf").open("a", encoding="utf-8") as fh:
        fh.write("# touched\n")
    out = run("review", "--hcl", ".", cwd=repo)
    assert_refused(out, "main.tf:4", "calls itself")


# -- crashes -------------------------------------------------------------------------

CRASHING_CHECK = """
from planguard.findings import CheckMeta, Severity

META = CheckMeta(
    id="PG901", slug="crash", title="Crash", severity=Severity.INFO,
    rationale="r", remediation="r",
)


def check(ctx):
    raise ZeroDivisionError("boom s3cr3t-in-exception")
    yield
"""


def test_crashing_check_blocks_and_cannot_be_ignored(tmp_path: Path) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "crash.py").write_text(CRASHING_CHECK, encoding="utf-8")
    cfg = tmp_path / ".planguard.yml"
    cfg.write_text("fail_on: critical\ndisable: [PG901]\n", encoding="utf-8")
    out = run("review", str(GOOD_PLAN), "--checks-dir", str(checks), "--format", "json")
    assert out.returncode == 1, out.stderr
    assert "check PG901 crashed (ZeroDivisionError" in out.stdout
    assert "s3cr3t-in-exception" not in out.stdout + out.stderr
    ignoring = tmp_path / "ignore.yml"
    ignoring.write_text(
        "fail_on: critical\nignore:\n  - check: PG001\n    address: '*'\n    reason: try\n",
        encoding="utf-8",
    )
    out = run("review", str(GOOD_PLAN), "--checks-dir", str(checks), "--config", str(ignoring))
    assert out.returncode != 0, out.stdout


def test_broken_user_check_module_is_exit_2(tmp_path: Path) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "broken.py").write_text("import no_such_module_anywhere\n", encoding="utf-8")
    out = run("review", str(GOOD_PLAN), "--checks-dir", str(checks))
    assert_refused(out, "broken.py", "")


def test_internal_error_is_exit_3_and_one_line(tmp_path: Path) -> None:
    """An unexpected exception anywhere becomes exit 3 with one line, never a pass."""
    script = (
        "import sys\n"
        "import planguard.review as r\n"
        "def boom(*a, **k):\n"
        "    raise KeyError('s3cr3t-in-crash')\n"
        "r.review_plans = boom\n"
        "from planguard.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "review", str(GOOD_PLAN)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert_refused(out, "internal error (KeyError", "the review did not complete", code=3)
    assert "s3cr3t-in-crash" not in out.stderr


@pytest.mark.parametrize(
    ("module", "function", "inputs"),
    [
        (
            "planguard.load.cloudformation",
            "_build",
            ["fixtures/cloudformation/pairs/vpc-after.yaml"],
        ),
        ("planguard.load.terraform", "_build", [str(GOOD_PLAN)]),
        ("planguard.load.hcl_parse", "_read_block", ["--hcl", "fixtures/hcl/remove/head"]),
    ],
)
def test_a_bug_in_a_loader_is_an_internal_error_not_bad_input(
    module: str, function: str, inputs: list[str]
) -> None:
    """Loaders turn only what they expect (decode, OS errors) into exit 2; a
    bug of planguard's own is exit 3, so it is reported and fixed, not blamed
    on the input."""
    script = (
        "import sys, importlib\n"
        f"m = importlib.import_module({module!r})\n"
        "def bug(*a, **k):\n"
        "    raise TypeError('a bug')\n"
        f"setattr(m, {function!r}, bug)\n"
        "from planguard.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "review", *inputs],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert_refused(out, "internal error (TypeError", "the review did not complete", code=3)


def test_interrupt_is_not_a_pass() -> None:
    script = (
        "import sys\n"
        "import planguard.review as r\n"
        "def stop(*a, **k):\n"
        "    raise KeyboardInterrupt\n"
        "r.review_plans = stop\n"
        "from planguard.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "review", str(GOOD_PLAN)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert out.returncode not in (0, 1), out
    assert out.stdout == ""


# -- large files are mapped, not read ----------------------------------------------

MAPPED = 5 * 1024 * 1024  # over planguard.load's mapping threshold


def _padded(path: Path, head: bytes = b"", tail: bytes = b"") -> Path:
    path.write_bytes(head + GOOD_PLAN.read_bytes() + b" " * MAPPED + tail)
    return path


def test_a_mapped_plan_loads_like_a_read_one(tmp_path: Path) -> None:
    import mmap

    import planguard.load as loader

    big = _padded(tmp_path / "big.json")
    assert isinstance(loader.read_buffer(str(big)), mmap.mmap)
    assert isinstance(loader.read_buffer(str(GOOD_PLAN)), bytes)
    [mapped] = loader.load([str(big)])
    [read] = loader.load([str(GOOD_PLAN)])
    assert mapped.counts() == read.counts()
    assert mapped.edges == read.edges
    for m, r in zip(mapped.changes, read.changes, strict=True):
        assert (m.address, m.before(), m.after()) == (r.address, r.before(), r.after())
    out = run("review", str(big), "--format", "json")
    assert out.returncode == run("review", str(GOOD_PLAN)).returncode, out.stderr


def test_values_read_from_a_mapped_plan_give_their_pages_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each value read faults in up to 64 KiB of the file: the pages are given
    back every few reads, and values read after that are the same."""
    import planguard.load as loader
    from planguard.speed import mapped as speed_mapped

    released: list[object] = []
    give_back = speed_mapped.release
    monkeypatch.setattr(speed_mapped, "READS_PER_RELEASE", 3)
    monkeypatch.setattr(speed_mapped, "_reads", 0)
    monkeypatch.setattr(
        speed_mapped, "release", lambda data: (released.append(data), give_back(data))
    )
    [mapped] = loader.load([str(_padded(tmp_path / "big.json"))])
    [read] = loader.load([str(GOOD_PLAN)])
    released.clear()  # the load's own
    for _ in range(2):
        for m, r in zip(mapped.changes, read.changes, strict=True):
            assert (m.before(), m.after()) == (r.before(), r.after())
    assert len(released) >= 2 * 2 * len(mapped.changes) // 3 > 0
    assert all(type(data).__name__ == "mmap" for data in released)


def test_a_mapped_plan_with_a_bad_byte_late_is_refused(tmp_path: Path) -> None:
    big = _padded(tmp_path / "late.json", tail=b"\xff")
    out = run("review", str(big))
    assert_refused(out, str(big), "not UTF-8 text (bad byte at offset")


def test_a_mapped_plan_with_a_byte_order_mark(tmp_path: Path) -> None:
    big = _padded(tmp_path / "bom.json", head=b"\xef\xbb\xbf")
    out = run("review", str(big), "--format", "json")
    assert out.returncode in (0, 1), out.stderr


def test_a_check_raising_keyboardinterrupt_says_so(tmp_path: Path) -> None:
    """It exited 130 with nothing on stderr."""
    (tmp_path / "pg903_stop.py").write_text(
        "from planguard.findings import CheckMeta, Severity\n"
        "META = CheckMeta(id='PG903', slug='s', title='S', severity=Severity.LOW,\n"
        "                 rationale='r', remediation='m')\n"
        "def check(ctx):\n"
        "    raise KeyboardInterrupt\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "planguard",
            "review",
            str(GOOD_PLAN),
            "--checks-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert_refused(out, "interrupted", "the review did not complete", code=130)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["review", "--nope", "plan.json"], "No such option: --nope"),
        (["revie"], "No such command 'revie'"),
        (["review", "--format", "html", "plan.json"], "'--format'"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], problem: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "planguard", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert_refused(out, problem, "(see planguard --help)")


def test_a_huge_dependency_cycle_is_named_briefly(tmp_path: Path) -> None:
    """A 50,000-node cycle printed a 1.1 MB line; now the first few and the count."""
    n = 2_000
    resources = [
        {
            "address": f"null_resource.n{i}",
            "mode": "managed",
            "type": "null_resource",
            "name": f"n{i}",
            "values": {},
            "depends_on": [f"null_resource.n{(i + 1) % n}"],
        }
        for i in range(n)
    ]
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": r["address"],
                "mode": "managed",
                "type": "null_resource",
                "name": r["name"],
                "change": {"actions": ["no-op"], "before": {}, "after": {}},
            }
            for r in resources
        ],
        "prior_state": {"values": {"root_module": {"resources": resources}}},
    }
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(plan))
    out = subprocess.run(
        [sys.executable, "-m", "planguard", "review", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert_refused(out, str(path), "dependency cycle: ")
    assert f"({n} resources in the cycle)" in out.stderr
    assert len(out.stderr) < 400


@pytest.mark.parametrize(
    "args",
    [
        ["review", "{special}"],
        ["review", str(GOOD_PLAN), "--config", "{special}"],
        ["review", str(GOOD_PLAN), "--ack", "{special}"],
        ["summary", "{special}"],
    ],
    ids=["plan", "config", "ack", "summary"],
)
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "link-to-dev-zero"])
def test_only_regular_files_are_read(tmp_path: Path, args: list[str], kind: str) -> None:
    """/dev/zero was read until memory ran out, a FIFO waited on forever."""
    if kind == "dev-zero":
        special = "/dev/zero"
    elif kind == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    else:
        special = str(tmp_path / "link")
        os.symlink("/dev/zero", special)
    out = subprocess.run(
        [sys.executable, "-m", "planguard", *(a.replace("{special}", special) for a in args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert_refused(out, special, "not a regular file")


def test_change_sets_naming_each_other_as_parent_are_refused(tmp_path: Path) -> None:
    """Two change sets each the other's parent made the loader loop forever."""

    def change_set(name: str, parent: str) -> dict:
        return {
            "ChangeSetName": name,
            "ChangeSetId": f"arn:aws:cloudformation:eu-west-1:1:changeSet/{name}/1",
            "ParentChangeSetId": f"arn:aws:cloudformation:eu-west-1:1:changeSet/{parent}/1",
            "StackName": name,
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": parent.capitalize(),
                        "ResourceType": "AWS::CloudFormation::Stack",
                        "ChangeSetId": f"arn:aws:cloudformation:eu-west-1:1:changeSet/{parent}/1",
                    },
                }
            ],
        }

    (tmp_path / "a.json").write_text(json.dumps(change_set("a", "b")))
    (tmp_path / "b.json").write_text(json.dumps(change_set("b", "a")))
    out = subprocess.run(
        [sys.executable, "-m", "planguard", "review", "a.json", "b.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert_refused(out, ".json", "nested change sets refer to each other in a loop")
