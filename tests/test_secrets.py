"""No secret leaks: no output of any fixture contains any planted secret.

Secrets are planted in fixtures/secrets/, fixtures/checks/PGnnn/bad-sensitive.json
(and fixtures/scenarios/ when present) as strings containing `s3cr3t-Planted-`:
under Terraform's sensitive marks, under secret-looking keys the provider did
not mark, in CloudFormation NoEcho parameters, dynamic references and
Before/AfterContext. Every fixture input that loads is run through every output
(review in each format, --verbose, --debug, summary, graph) and each output is
searched for every planted secret.

The command line runs in-process here (hundreds of inputs × eleven outputs);
tests/test_reliability.py covers the real subprocess.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard.cli import main
from planguard.errors import PlanguardError
from planguard.load import load

MARK = "s3cr3t-Planted-"
_PLANTED = re.compile(re.escape(MARK) + r"[A-Za-z0-9_-]+")
SECRETS = FIXTURES / "secrets"
# Not a secret by decision (README): a for_each key is part of an address.
FOREACH_KEY = "not-a-secret-foreach-key"

_SKIP_DIRS = {"bad", "sarif"}
_SUFFIXES = {".json", ".yaml", ".yml", ".template"}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def planted() -> list[str]:
    found: set[str] = set()
    files = [*FIXTURES.glob("checks/PG*/*-sensitive.json")]
    for folder in (SECRETS, FIXTURES / "scenarios"):
        if folder.is_dir():
            files += [path for path in folder.rglob("*") if path.is_file()]
    for path in files:
        if path.suffix != ".py":
            found.update(_PLANTED.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found)


@cache
def inputs() -> list[tuple[str, ...]]:
    """Every fixture that loads on its own, plus the CloudFormation combinations."""
    out: list[tuple[str, ...]] = []
    for path in sorted(FIXTURES.rglob("*")):
        rel = path.relative_to(FIXTURES)
        if not path.is_file() or path.suffix not in _SUFFIXES or rel.parts[0] in _SKIP_DIRS:
            continue
        try:
            load([str(path)])
        except PlanguardError:
            continue
        out.append((_rel(path),))
    s = _rel(SECRETS)
    out += [
        (f"{s}/cfn-secrets.changeset.json", f"{s}/cfn-secrets.template.yaml"),
        (
            "--before",
            f"{s}/cfn-secrets-before.template.yaml",
            "--after",
            f"{s}/cfn-secrets.template.yaml",
        ),
        ("--after", f"{s}/cfn-secrets.template.yaml"),
        ("--before", f"{s}/cfn-secrets-before.template.yaml"),
    ]
    return out


OUTPUTS: dict[str, tuple[str, ...]] = {
    "review-terminal": ("review", "--format", "terminal"),
    "review-markdown": ("review", "--format", "markdown"),
    "review-json": ("review", "--format", "json"),
    "review-sarif": ("review", "--format", "sarif"),
    "review-verbose": ("review", "--verbose", "--color"),
    "review-debug": ("review", "--debug", "--verbose", "--format", "markdown"),
    "summary-table": ("summary",),
    "summary-json": ("summary", "--format", "json"),
    "graph-json": ("graph", "--format", "json"),
    "graph-mermaid": ("graph", "--format", "mermaid"),
    "graph-dot": ("graph", "--format", "dot"),
}


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


def outputs_of(args: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    files = [a for a in args if not a.startswith("--")]
    options = args if args[0].startswith("--") else ()
    results = {}
    for name, command in OUTPUTS.items():
        if command[0] == "review":
            argv = [*command, *args]
        elif options:
            continue  # --before/--after exist only for review
        elif command[0] == "graph":
            if len(files) != 1:
                continue
            argv = [*command, *files]
        else:
            argv = [*command, *files]
        results[name] = run(argv)
    return results


def test_secrets_are_planted() -> None:
    secrets = planted()
    assert len(secrets) >= 40, secrets
    loaded_text = "".join(
        (ROOT / a).read_bytes().decode("utf-8", "replace")
        for args in inputs()
        for a in args
        if not a.startswith("--")
    )
    unused = [s for s in secrets if s not in loaded_text]
    assert not unused, f"planted in files no test loads: {unused}"


def test_fixture_inputs_found() -> None:
    assert len(inputs()) >= 200
    assert ("fixtures/secrets/tf-sensitive.json",) in inputs()


@pytest.mark.parametrize("args", inputs(), ids=lambda a: " ".join(a))
def test_no_output_contains_a_planted_secret(args: tuple[str, ...]) -> None:
    secrets = planted()
    for name, (code, text) in outputs_of(args).items():
        assert code in (0, 1, 2), (name, text[-2000:])
        if code == 2:
            # Bad input found only by the review (a dependency cycle): still one line.
            assert text.count("\n") == 1 and "planguard: error:" in text, (name, text)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{name} of {args} prints {leaked}"


def test_secret_fixtures_are_reviewed_not_refused() -> None:
    """The leak search means something only if the secret fixtures produce full reports."""
    s = _rel(SECRETS)
    code, text = run(["review", "--format", "json", f"{s}/tf-sensitive.json"])
    assert code == 1, text
    for check in ("PG101", "PG102", "PG104", "PG105", "PG301"):
        assert f'"{check}"' in text
    code, text = run(
        [
            "review",
            "--format",
            "json",
            f"{s}/cfn-secrets.changeset.json",
            f"{s}/cfn-secrets.template.yaml",
        ]
    )
    assert code == 1, text
    assert '"Db"' in text


def test_foreach_key_is_shown_as_part_of_the_address() -> None:
    """Decided hard case (see SECURITY.md): addresses are never masked."""
    code, text = run(["summary", "--format", "json", _rel(SECRETS / "tf-sensitive.json")])
    assert code == 0
    code, text = run(["graph", "--format", "json", _rel(SECRETS / "tf-sensitive.json")])
    assert FOREACH_KEY in text


CRASH_WITH_SECRET = """
from planguard.findings import CheckMeta, Severity

META = CheckMeta(
    id="PG902", slug="leaky-crash", title="Leaky crash", severity=Severity.INFO,
    rationale="r", remediation="r",
)


def check(ctx):
    raise ValueError("s3cr3t-" + "Planted-in-a-check-exception")
    yield
"""


def test_a_crash_message_is_not_printed(tmp_path: Path) -> None:
    """A check's exception text may quote a value: the crash finding names only its type."""
    (tmp_path / "leaky.py").write_text(CRASH_WITH_SECRET, encoding="utf-8")
    for fmt in ("terminal", "markdown", "json", "sarif"):
        code, text = run(
            [
                "review",
                "--debug",
                "--checks-dir",
                str(tmp_path),
                "--format",
                fmt,
                _rel(SECRETS / "tf-sensitive.json"),
            ]
        )
        assert code == 1
        assert "PG902 crashed (ValueError" in text or "PG902" in text
        assert MARK not in text


def test_debug_traceback_of_an_internal_error_has_no_exception_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--debug shows where an internal error happened, not the values it carried."""
    import planguard.engine

    secret = MARK + "in-an-internal-error"

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError(secret)

    monkeypatch.setattr(planguard.engine, "run", boom)
    code, text = run(["review", "--debug", _rel(SECRETS / "tf-sensitive.json")])
    assert code == 3
    assert "Traceback" in text and "KeyError" in text
    assert MARK not in text


BAD_WITH_SECRETS = {
    "unclosed.yaml": "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
    f"      MasterUserPassword: [{MARK}err-yaml\n",
    "control.yaml": "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
    f'      MasterUserPassword: "{MARK}err-control\x01"\n',
    "context.json": '{"ChangeSetName":"c","StackName":"s","Changes":[{"Type":"Resource",'
    '"ResourceChange":{"Action":"Modify","LogicalResourceId":"Db","ResourceType":'
    '"AWS::RDS::DBInstance","BeforeContext":"{\\"Properties\\": {\\"MasterUserPassword\\": '
    f'\\"{MARK}err-context\\""}}}}]}}',
    "param.json": '{"ChangeSetName":"c","StackName":"s","Parameters":[{"ParameterKey":"P",'
    f'"ParameterValue":["{MARK}err-param"]}}],"Changes":[]}}',
    "plan.json": '{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":'
    '"aws_db_instance.a","change":{"actions":["update"],"before":{"password":'
    f'"{MARK}err-tf"}},"after":{{"password": {MARK}err-tf2}}}}}}]}}',
}


@pytest.mark.parametrize("name", sorted(BAD_WITH_SECRETS))
def test_error_messages_do_not_quote_secrets(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(BAD_WITH_SECRETS[name], encoding="utf-8")
    code, text = run(["review", "--debug", str(path)])
    assert code == 2, text
    assert MARK not in text


def _loaded_secret_plans() -> list:
    from planguard.load import LoadOptions

    s = str(SECRETS)
    plans = load([f"{s}/tf-sensitive.json"])
    plans += load([f"{s}/cfn-secrets.changeset.json", f"{s}/cfn-secrets.template.yaml"])
    plans += load([f"{s}/cfn-secrets.changeset.json"])
    plans += load([f"{s}/cfn-secrets.template.yaml"])
    plans += load(
        [],
        LoadOptions(
            before=[f"{s}/cfn-secrets-before.template.yaml"],
            after=[f"{s}/cfn-secrets.template.yaml"],
        ),
    )
    return plans


def test_the_model_hands_out_no_planted_secret() -> None:
    """Masking happens in the model, so a future check or report cannot leak either."""
    import json

    leaks = []
    for plan in _loaded_secret_plans():
        for change in [*plan.changes, *plan.drift]:
            if change.attributes is None:
                continue
            for side in ("before", "after"):
                whole = change.attributes.side(side)
                leaves = change.attributes.leaves(side)[0]
                picked = change.attributes.pick(side, whole if isinstance(whole, dict) else ())
                text = json.dumps([whole, leaves, picked], default=str)
                leaks += [(plan.source, change.address, side) for _ in _PLANTED.findall(text)]
    assert not leaks


def _flatten(value: object, at: str, leaves: dict, hidden: set) -> None:
    """The obvious flattening of a masked value, to hold `Attributes.leaves` to."""
    from planguard.values import SENSITIVE, UNKNOWN

    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{at}.{key}" if at else key, leaves, hidden)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{at}[{i}]", leaves, hidden)
    elif value in (SENSITIVE, UNKNOWN):
        hidden.add(at)
    elif value is not None:
        leaves[at] = value


def test_leaves_are_the_masked_value_flattened() -> None:
    """`leaves()` masks without building the masked value: it must agree with `side()`."""
    compared = 0
    for plan in _loaded_secret_plans():
        for change in [*plan.changes, *plan.drift]:
            if change.attributes is None:
                continue
            for side in ("before", "after"):
                leaves: dict = {}
                hidden: set = set()
                _flatten(change.attributes.side(side), "", leaves, hidden)
                assert change.attributes.leaves(side) == (leaves, hidden), change.address
                compared += bool(hidden)
    assert compared >= 10


def test_pick_is_side_restricted_to_the_keys() -> None:
    for plan in _loaded_secret_plans():
        for change in plan.changes:
            if change.attributes is None:
                continue
            for side in ("before", "after"):
                whole = change.attributes.side(side)
                if not isinstance(whole, dict):
                    assert change.attributes.pick(side, ["x"]) is None
                    continue
                keys = sorted(whole)[::2]
                want = {k: whole[k] for k in keys if whole[k] is not None}
                assert change.attributes.pick(side, keys) == want, change.address


@pytest.mark.parametrize(
    "key",
    [
        "MasterUserPassword",
        "SecretString",
        "AuthToken",
        "SecretAccessKey",
        "DBPassword",
        "ConnectionString",
        "PrivateKey",
        "password",
        "auth_token",
        "DB_PASSWORD",
    ],
)
def test_secret_looking_keys_in_any_case_style(key: str) -> None:
    from planguard.values import SENSITIVE, Attributes

    attrs = Attributes({"Properties": {key: MARK + "x"}}, {key: MARK + "y"})
    assert attrs.get("before", ("Properties", key)) == SENSITIVE
    assert attrs.get("after", (key,)) == SENSITIVE
    assert MARK not in repr(attrs.side("before")) + repr(attrs.side("after"))


@pytest.mark.parametrize("key", ["SecretArn", "KmsKeyId", "PasswordLength", "TokenName"])
def test_keys_that_only_mention_a_secret_are_shown(key: str) -> None:
    from planguard.values import Attributes

    assert Attributes(None, {key: "v"}).get("after", (key,)) == "v"


# -- checks decide on sensitive values and never show them ---------------------

# What each check decides on in fixtures/checks/PGnnn/bad-sensitive.json, as
# its messages would show it were the values not sensitive (see bad.json).
DECIDED = {
    "PG105": ["→ false", "→ true", "→ 0", "7 →", "Suspended"],
    "PG201": ['("*" on "*")', 'any principal ("*")', "AdministratorAccess"],
    "PG301": ["internet from", "tcp port 22", "port 5432", "::/0 on"],
}


@pytest.mark.parametrize("check_id", sorted(DECIDED))
def test_decided_sensitive_values_are_in_no_output(check_id: str, tmp_path: Path) -> None:
    path = _rel(FIXTURES / "checks" / check_id / "bad-sensitive.json")
    texts = {}
    for fmt in ("terminal", "markdown", "json", "sarif"):
        code, texts[fmt] = run(["review", "--verbose", "--format", fmt, path])
        assert code == 1, texts[fmt]  # blocked, like bad.json
        assert check_id in texts[fmt]
    out = tmp_path / "ack.json"
    code, texts["ack"] = run(["ack", path, "--by", "alice", "--reason", "r", "-o", str(out)])
    assert code == 0, texts["ack"]
    texts["ack-file"] = out.read_text(encoding="utf-8")
    assert '"check":"' + check_id in texts["ack-file"]
    for name, text in texts.items():
        leaked = [v for v in DECIDED[check_id] if v in text] + _PLANTED.findall(text)
        assert not leaked, f"{name} of {path} shows {leaked}"


def test_the_ack_file_holds_no_evidence() -> None:
    """Evidence binds the fingerprint and is never written, even when it is
    the sensitive value itself."""
    from planguard import ack, registry
    from planguard.config import Config
    from planguard.engine import review

    for check_id in sorted(DECIDED):
        plans = load([str(FIXTURES / "checks" / check_id / "bad-sensitive.json")])
        found = [
            f for r in review(plans, registry.all_checks(), Config()).plans for f in r.findings
        ]
        body = ack.render([("plan.json", f) for f in found], "alice", "r").decode()
        evidence = [e for f in found for e in f.evidence]
        assert evidence
        assert not [e for e in evidence if e in body]
        assert not _PLANTED.findall(body)


def test_unmasked_reads_are_for_decisions_and_leave_masking_alone() -> None:
    from planguard.values import SENSITIVE, UNKNOWN, Attributes

    attrs = Attributes(
        b'{"deletion_protection": true, "password": "' + MARK.encode() + b'b"}',
        b'{"deletion_protection": false, "tags": {"a": "b"}, "password": "'
        + MARK.encode()
        + b'a"}',
        before_sensitive=b"{}",
        after_sensitive=b'{"deletion_protection": true}',
        after_unknown=b'{"arn": true, "tags": {"c": true}}',
    )
    real = attrs.unmasked("after")
    assert real["deletion_protection"] is False  # decided on, never printed
    assert real["arn"] == UNKNOWN and real["tags"] == {"a": "b", "c": UNKNOWN}
    assert attrs.unmasked_pick("after", ["deletion_protection", "arn", "nope"]) == {
        "deletion_protection": False,
        "arn": UNKNOWN,
    }
    assert attrs.unmasked_pick("before", ["deletion_protection"]) == {"deletion_protection": True}
    # The masked readers are as they were, before and after an unmasked read.
    assert attrs.side("after")["deletion_protection"] == SENSITIVE
    assert attrs.side("after")["password"] == SENSITIVE
    assert attrs.pick("after", ["deletion_protection"]) == {"deletion_protection": SENSITIVE}
    assert attrs.get("after", ("deletion_protection",)) == SENSITIVE
    assert MARK not in repr(attrs.side("after")) + repr(attrs.leaves("after"))
    # Sensitive as a whole: masked readers see nothing, the unmasked one the object.
    whole = Attributes(None, {"deletion_protection": False}, after_sensitive=True)
    assert whole.pick("after", ["deletion_protection"]) is None
    assert whole.unmasked_pick("after", ["deletion_protection"]) == {"deletion_protection": False}


def test_values_read_after_release_raise_not_vanish() -> None:
    """After the review lets go of the values, a read is a bug to find (exit 3
    through the CLI's boundary), never a quiet None that a check takes for
    'nothing set'."""
    from planguard.load import load as load_plans
    from planguard.values import ReleasedError

    [plan] = load_plans([str(SECRETS / "tf-sensitive.json")])
    attrs = next(c.attributes for c in plan.changes if c.attributes is not None)
    attrs.release()
    for read in (
        lambda: attrs.side("after"),
        lambda: attrs.get("before", ("x",)),
        lambda: attrs.pick("after", ["x"]),
        lambda: list(attrs.sensitive_paths()),
        lambda: attrs.unmasked("after"),
    ):
        with pytest.raises(ReleasedError):
            read()


@pytest.mark.parametrize(
    "source",
    [
        'resource "aws_db_instance" "db" {\n  password = <<EOT\n' + MARK + "heredoc-body\n",
        'resource "tls_private_key" "k" {\n  private_key_pem = <<EOT\n-----BEGIN RSA PRIVATE KEY'
        "-----\n" + MARK + "pem\n",
        'resource "aws_db_instance" "db" {\n  password = "' + MARK + "unterminated\n",
        'resource "aws_db_instance" "db" {\n  password = ' + MARK + "bare stray ¤\n}\n",
    ],
    ids=["heredoc", "pem", "string", "bare"],
)
@pytest.mark.parametrize("how", ["beside-a-plan", "hcl"])
def test_hcl_parse_errors_quote_nothing(tmp_path: Path, source: str, how: str) -> None:
    """The HCL parser's message quoted its token: for an unterminated heredoc,
    the body and the rest of the file. Now: file, line, column, and the kind."""
    (tmp_path / "main.tf").write_text(source)
    shutil.copy(FIXTURES / "checks/PG101/bad.json", tmp_path / "plan.json")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    args = ["review", "plan.json"] if how == "beside-a-plan" else ["review", "--hcl", "."]
    proc = subprocess.run(
        [sys.executable, "-m", "planguard", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert MARK not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("planguard: error: main.tf:")
    assert "cannot parse HCL: " in proc.stderr
