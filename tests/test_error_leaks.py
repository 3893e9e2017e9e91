"""No error message quotes a secret from the input.

Each case is a real fixture with a distinctive secret planted in it (a value
`SEKRET-<hex>-1234`, a PEM private key, a password heredoc) and one thing made
wrong next to it. It runs through every command that reads that kind of input
— `review`, `summary`, `graph`, `ack` and the GitHub Action's `github` step,
whose log, step summary and outputs are read too — and each must exit 2 with
one line on stderr naming the file (or, for a change set that contradicts
itself, be blocked by PG001), and the secret nowhere in what it wrote.

`python tests/test_error_leaks.py` prints the counts: inputs tried, failed
closed, secrets planted and secrets leaked.

Names from the input that are valid identifiers (a logical id, a check id, a
plain word typed as a key) may be shown, as every report shows them; the
secrets planted here are never valid identifiers, so any sign of one is a leak.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers import FIXTURES
from planguard.cli import main

PLAN = FIXTURES / "checks/PG101/bad.json"  # a database destroyed
CHANGE_SET = FIXTURES / "cloudformation/changesets/rds-replace/changeset.json"
TEMPLATE = FIXTURES / "cloudformation/changesets/rds-replace/template.yaml"
AFTER = FIXTURES / "cloudformation/pairs/topics-after.yaml"
HCL = FIXTURES / "hcl/remove"
PEM_BODY = "MIIEpAIBAAKCAQEAzSEKRET-pem-1234q7w8e9r0tyuiopASDFGHJKL"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n"
HEREDOC_SECRET = "SEKRET-heredoc-1234-hunter2"
EXIT_BLOCKED, EXIT_INPUT = 1, 2


@dataclass
class Case:
    """One bad input: its files (name -> bytes), the arguments that read it, and
    the secrets planted in it."""

    id: str
    loader: str
    files: dict[str, bytes]
    inputs: list[str]  # plan-like inputs given as arguments
    extra: list[str] = field(default_factory=list)  # --hcl, -c, --ack, --before…
    secrets: tuple[str, ...] = ()
    names: str = ""  # the file the error line must name
    git: bool = False  # the inputs live in a git repository (for --hcl)
    # Commands that read this kind of input (summary and graph read no sources,
    # no policy and no acknowledgements).
    reads: tuple[str, ...] = ("review", "summary", "graph", "ack", "github")
    # True: the input is read and the gate blocks it (PG001) rather than refusing it.
    blocked: bool = False
    known: str | None = None  # a failure outside this module's reach, reported

    def commands(self) -> list[list[str]]:
        out = [["review", *self.inputs, *self.extra]]
        if not self.extra:
            out.append(["summary", *self.inputs])
            out.append(["graph", self.inputs[0]])
        if "--ack" not in self.extra:
            out.append(["ack", *self.inputs, *self.extra, "--reason", "r", "--by", "b"])
        return [argv for argv in out if argv[0] in self.reads]

    def action_env(self) -> dict[str, str] | None:
        """The GitHub Action's inputs for this case, when the Action can take it."""
        env = {"PLANGUARD_PLANS": " ".join(self.inputs)}
        flags = dict(zip(self.extra[::2], self.extra[1::2], strict=False))
        for flag in flags:
            if flag not in ("-c", "--ack"):
                return None
        if "github" not in self.reads:
            return None
        if "-c" in flags:
            env["PLANGUARD_CONFIG"] = flags["-c"]
        if "--ack" in flags:
            env["PLANGUARD_ACK"] = flags["--ack"]
        return env


def secret(tag: str) -> str:
    """A secret unique to the case, with no word in it a message could hold."""
    return f"SEKRET-{hashlib.sha1(tag.encode()).hexdigest()[:8]}-1234"


# -- the cases -------------------------------------------------------------------


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=1).encode()


def _plan(change: Callable[[dict[str, Any], str], Any], tag: str) -> tuple[bytes, str]:
    """The PG101 plan with a password holding the secret, then `change` applied."""
    s = secret(tag)
    doc = _json(PLAN)
    doc["resource_changes"][0]["change"]["before"]["password"] = s
    change(doc, s)
    return _dump(doc), s


def _rc(doc: dict[str, Any], i: int = 0) -> dict[str, Any]:
    rc: dict[str, Any] = doc["resource_changes"][i]
    return rc


def terraform_cases() -> list[Case]:
    out = []

    def add(
        tag: str, change: Callable[[dict[str, Any], str], Any], known: str | None = None
    ) -> None:
        data, s = _plan(change, tag)
        out.append(
            Case(
                tag,
                "terraform",
                {"plan.json": data},
                ["plan.json"],
                secrets=(s,),
                names="plan.json",
                known=known,
            )
        )

    def raw(tag: str, data: bytes, s: str, known: str | None = None) -> None:
        out.append(
            Case(
                tag,
                "terraform",
                {"plan.json": data},
                ["plan.json"],
                secrets=(s,),
                names="plan.json",
                known=known,
            )
        )

    whole, s = _plan(lambda d, s: None, "tf-truncated")
    raw("tf-truncated", whole[: whole.index(s.encode()) + len(s)], s)
    whole, s = _plan(lambda d, s: None, "tf-truncated-late")
    raw("tf-truncated-late", whole[: len(whole) * 2 // 3], s)
    whole, s = _plan(lambda d, s: None, "tf-trailing")
    raw("tf-trailing", whole + b"\n" + s.encode(), s)
    whole, s = _plan(lambda d, s: None, "tf-nul")
    raw("tf-nul", whole.replace(s.encode(), s.encode() + b"\x00"), s)
    whole, s = _plan(lambda d, s: None, "tf-bad-utf8")
    raw("tf-bad-utf8", whole.replace(s.encode(), s.encode() + b"\xff\xfe"), s)
    whole, s = _plan(lambda d, s: None, "tf-utf16-odd")
    raw("tf-utf16-odd", b"\xff\xfe" + whole.decode().encode("utf-16-le") + b"\x00", s)
    whole, s = _plan(lambda d, s: None, "tf-huge-number")
    raw("tf-huge-number", whole.replace(b'"applyable": true', b'"applyable": 1' + b"0" * 5000), s)
    whole, s = _plan(lambda d, s: None, "tf-duplicate-key")
    raw("tf-duplicate-key", whole[:-2] + f', "errored": "{s}"}}'.encode(), s)
    add("tf-address-object", lambda d, s: _rc(d).update(address={"k": s}))
    add("tf-changes-string", lambda d, s: d.update(resource_changes=s))
    add("tf-format-version-number", lambda d, s: d.update(format_version=1.2))
    add(
        "tf-address-garbage",
        lambda d, s: _rc(d).update(address=f"{s} !!"),
    )
    add(
        "tf-previous-address",
        lambda d, s: _rc(d).update(previous_address=s),
    )
    add(
        "tf-actions",
        lambda d, s: _rc(d)["change"].update(actions=[s]),
    )
    add(
        "tf-format-version",
        lambda d, s: d.update(format_version=s),
    )
    add("tf-index-object", lambda d, s: _rc(d).update(index={"k": s}))
    add(
        "tf-depends-on-string",
        lambda d, s: d["prior_state"]["values"]["root_module"]["resources"][0].update(depends_on=s),
    )
    add(
        "tf-mode",
        lambda d, s: _rc(d).update(mode=s),
    )
    add(
        "tf-type-contradicts-address",
        lambda d, s: _rc(d).update(type=s),
    )
    out[-1].blocked, out[-1].reads = True, ("review", "github")  # PG001: contradicts itself
    return out


def _change_set(change: Callable[[dict[str, Any], str], Any], tag: str) -> tuple[bytes, str]:
    """rds-replace's change set, its password now the secret, then `change` applied."""
    s = secret(tag)
    doc = _json(CHANGE_SET)
    for entry in doc["Changes"]:
        rc = entry["ResourceChange"]
        for side in ("BeforeContext", "AfterContext"):
            if isinstance(rc.get(side), str):
                rc[side] = rc[side].replace("correct-horse-battery", s)
    change(doc, s)
    return _dump(doc), s


def _crc(doc: dict[str, Any], i: int = 0) -> dict[str, Any]:
    rc: dict[str, Any] = doc["Changes"][i]["ResourceChange"]
    return rc


def change_set_cases() -> list[Case]:
    out = []

    def add(tag: str, change: Callable[[dict[str, Any], str], Any]) -> None:
        data, s = _change_set(change, tag)
        out.append(
            Case(
                tag, "cfn-change-set", {"cs.json": data}, ["cs.json"], secrets=(s,), names="cs.json"
            )
        )

    add("cs-action", lambda d, s: _crc(d).update(Action=s))
    add("cs-replacement", lambda d, s: _crc(d).update(Replacement=s))
    add("cs-policy-action", lambda d, s: _crc(d).update(PolicyAction=s))
    add("cs-recreation", lambda d, s: _crc(d)["Details"][0]["Target"].update(RequiresRecreation=s))
    add("cs-type", lambda d, s: d["Changes"][0].update(Type=s))
    add("cs-logical-id", lambda d, s: _crc(d).update(LogicalResourceId=s))
    add("cs-resource-type", lambda d, s: _crc(d).update(ResourceType=s))
    add(
        "cs-context-not-json",
        lambda d, s: _crc(d).update(BeforeContext='{"Properties": {"P": "' + s),
    )
    add("cs-context-list", lambda d, s: _crc(d).update(AfterContext=json.dumps([s])))
    add("cs-status", lambda d, s: d.update(Status=s))
    add("cs-changes-string", lambda d, s: d.update(Changes=s))
    add("cs-next-token", lambda d, s: d.update(NextToken=s))
    add(
        "cs-parameter-key",
        lambda d, s: d.update(Parameters=[{"ParameterKey": 7, "ParameterValue": s}]),
    )
    add(
        "cs-remove-no-type",
        lambda d, s: (
            _crc(d).update(
                Action="Remove",
                PhysicalResourceId=s,
                Replacement=None,
                PolicyAction="Delete",
                AfterContext=None,
            ),
            _crc(d).pop("ResourceType"),
        ),
    )
    add(
        "cs-remove-replaced",
        lambda d, s: _crc(d).update(Action="Remove", PhysicalResourceId=s, AfterContext=None),
    )
    add(
        "cs-false-but-always",
        lambda d, s: (
            _crc(d, 1).update(PhysicalResourceId=s),
            _crc(d, 1)["Details"][0]["Target"].update(RequiresRecreation="Always"),
        ),
    )
    # Well formed but contradicting itself: read, and blocked by PG001 (exit 1).
    for case in out[-2:]:
        case.blocked, case.reads = True, ("review", "github")
    data, s = _change_set(lambda d, s: None, "cs-truncated")
    out.append(
        Case(
            "cs-truncated",
            "cfn-change-set",
            {"cs.json": data[: data.index(s.encode()) + len(s)]},
            ["cs.json"],
            secrets=(s,),
            names="cs.json",
        )
    )
    return out


YAML_HEAD = (
    b"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Database:\n"
    b"    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n"
)


def template_cases() -> list[Case]:
    out = []

    def yaml(tag: str, body: Callable[[str], bytes], name: str = "t.yaml") -> None:
        s = secret(tag)
        out.append(Case(tag, "cfn-template", {name: body(s)}, [name], secrets=(s,), names=name))

    def prop(text: str) -> Callable[[str], bytes]:
        return lambda s: (
            YAML_HEAD + b"      MasterUserPassword: " + text.replace("§", s).encode() + b"\n"
        )

    yaml("yaml-unclosed-quote", prop('"§'))
    yaml(
        "yaml-bad-indent",
        lambda s: YAML_HEAD + f"      MasterUserPassword: {s}\n   Oops: : x\n".encode(),
    )
    yaml("yaml-tab", lambda s: YAML_HEAD + f"      MasterUserPassword: {s}\n\t\tMore: x\n".encode())
    yaml("yaml-unknown-tag", prop("!Sekret §"))
    yaml(
        "yaml-unknown-tag-named",
        lambda s: YAML_HEAD + f"      MasterUserPassword: !{s} x\n".encode(),
    )
    yaml("yaml-python-tag", prop("!!python/object/apply:os.system [§]"))
    yaml("yaml-int-tag", prop("!!int §"))
    yaml("yaml-binary-tag", prop("!!binary §"))
    yaml("yaml-undefined-alias", prop("*§"))
    yaml("yaml-ref-list", prop("!Ref [§]"))
    yaml("yaml-getatt-no-dot", prop("!GetAtt §"))
    yaml("yaml-sub-shape", prop("!Sub [a, b, §]"))
    yaml("yaml-if-shape", prop("!If [§]"))
    yaml("yaml-duplicate-key", lambda s: YAML_HEAD + f"      {s}: a\n      {s}: b\n".encode())
    yaml("yaml-logical-id", lambda s: f"Resources:\n  {s}:\n    Type: AWS::S3::Bucket\n".encode())
    yaml("yaml-deletion-policy", lambda s: YAML_HEAD + f"    DeletionPolicy: {s}\n".encode())
    yaml("yaml-depends-on", lambda s: YAML_HEAD + f"    DependsOn: {s}\n".encode())
    yaml(
        "yaml-parameter-name",
        lambda s: f"Parameters:\n  {s}: 3\n".encode() + YAML_HEAD[YAML_HEAD.index(b"Resources") :],
    )
    yaml(
        "yaml-noecho",
        lambda s: (
            f"Parameters:\n  P:\n    Type: String\n    NoEcho: {s}\n".encode()
            + YAML_HEAD[YAML_HEAD.index(b"Resources") :]
        ),
    )
    yaml("yaml-output-name", lambda s: YAML_HEAD + f"Outputs:\n  {s}: 3\n".encode())
    yaml(
        "yaml-output-value",
        lambda s: YAML_HEAD + f"Outputs:\n  Out:\n    Value: !Ref [{s}]\n".encode(),
    )
    yaml("yaml-type-list", lambda s: f"Resources:\n  Db:\n    Type: [{s}]\n".encode())
    yaml(
        "yaml-ignore-entry",
        lambda s: YAML_HEAD + f"    Metadata:\n      planguard:\n        ignore: [{s}]\n".encode(),
    )
    yaml(
        "yaml-bad-utf8",
        lambda s: YAML_HEAD + b"      MasterUserPassword: " + s.encode() + b"\xff\n",
    )
    pem = "".join(f"        {line}\n" for line in PEM.splitlines())
    yaml(
        "yaml-pem-unclosed",
        lambda s: YAML_HEAD + f'      Key: |\n{pem}      Other: "{s}\n'.encode(),
    )
    out[-1].secrets += (PEM_BODY,)

    def props(text: str) -> Callable[[str], bytes]:
        """A JSON template whose database's Properties are `text` (§: the secret)."""
        head = '{"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": '
        return lambda s: (head + text.replace("§", s) + "}}}").encode()

    yaml("json-malformed", props('{"P": "§" "x"}'), "t.json")
    yaml("json-duplicate-key", props('{"§": 1, "§": 2}'), "t.json")
    yaml("json-ref-list", props('{"P": {"Ref": ["§"]}}'), "t.json")
    yaml("json-unknown-function", props('{"P": {"Fn::§": "x"}}'), "t.json")
    yaml(
        "json-logical-id",
        lambda s: f'{{"Resources": {{"{s}": {{"Type": "AWS::S3::Bucket"}}}}}}'.encode(),
        "t.json",
    )
    # --before / --after: the bad template is one side of a pair.
    after = AFTER.read_bytes()
    for side in ("--before", "--after"):
        s = secret(f"pair{side}")
        bad = YAML_HEAD + f'      MasterUserPassword: "{s}\n'.encode()
        other = "--after" if side == "--before" else "--before"
        out.append(
            Case(
                f"yaml-pair{side}",
                "cfn-template",
                {"bad.yaml": bad, "good.yaml": after},
                [],
                [side, "bad.yaml", other, "good.yaml"],
                secrets=(s,),
                names="bad.yaml",
            )
        )
    return out


def hcl_cases() -> list[Case]:
    """Broken .tf sources, read with --hcl (in git), next to a plan, or with --source-dir."""
    out = []
    base = (HCL / "base/main.tf").read_bytes()
    vpc = 'resource "aws_vpc" "main" {\n  cidr_block = '
    db = 'resource "aws_db_instance" "db" {\n  password = <<EOT\n'
    key = 'resource "tls_private_key" "k" {\n  private_key_pem = <<EOT\n'
    broken = {  # tag -> (main.tf, its secret); § is the secret
        "hcl-heredoc-password": (db + "§\nmore\n", HEREDOC_SECRET),
        "hcl-heredoc-pem": (key + PEM.replace(PEM_BODY, "§"), PEM_BODY),
        "hcl-bad-token": (vpc + '"§" @@@\n}\n', ""),
        "hcl-unclosed-string": (vpc + '"§\n}\n', ""),
        "hcl-bad-template": (vpc + '"${§ +}"\n}\n', ""),
        "hcl-unclosed-block": (vpc + '"§"\n', ""),
        "hcl-bad-utf8": (vpc + '"§\udcff"\n}\n', ""),
    }
    plan = PLAN.read_bytes()
    for tag, (template, planted) in broken.items():
        s = planted or secret(tag)
        text = template.replace("§", s).encode("utf-8", "surrogateescape")
        broken[tag] = (text.decode("utf-8", "surrogateescape"), s)
        out.append(
            Case(
                tag,
                "hcl",
                {"tf/main.tf": text},
                [],
                ["--hcl", "tf"],
                secrets=(s,),
                names="main.tf",
                git=True,
            )
        )
    for tag in ("hcl-heredoc-password", "hcl-heredoc-pem"):
        text = broken[tag][0].encode()
        s = broken[tag][1]
        out.append(
            Case(
                f"{tag}-next-to-plan",
                "hcl",
                {"main.tf": text, "plan.json": plan},
                ["plan.json"],
                secrets=(s,),
                names="main.tf",
            )
        )
        out.append(
            Case(
                f"{tag}-source-dir",
                "hcl",
                {"src/main.tf": text, "plan.json": plan},
                ["plan.json"],
                ["--source-dir", "src"],
                secrets=(s,),
                names="main.tf",
            )
        )
    # the base of the --hcl cases, committed before the broken head replaces it
    for case in out:
        case.reads = ("review", "ack", "github")
        if case.git:
            case.files = {"tf/main.tf": base, **{"head/" + k: v for k, v in case.files.items()}}
    return out


def config_cases() -> list[Case]:
    out = []
    plan = PLAN.read_bytes()

    def add(tag: str, name: str, text: Callable[[str], bytes], known: str | None = None) -> None:
        s = secret(tag)
        files = {name: text(s), "plan.json": plan}
        out.append(
            Case(
                tag,
                "config",
                files,
                ["plan.json"],
                ["-c", name],
                secrets=(s,),
                names=name,
                known=known,
            )
        )

    add("cfg-yaml-unclosed", ".planguard.yml", lambda s: f'fail_on: "{s}\n'.encode())
    add("cfg-yaml-tag", "p.yml", lambda s: f"fail_on: !x {s}\n".encode())
    add("cfg-yaml-python-tag", "p.yml", lambda s: f"fail_on: !!python/name:{s}\n".encode())
    add("cfg-yaml-bad-indent", "p.yml", lambda s: f"fail_on: {s}\n  x: : y\n".encode())
    add("cfg-severity", "p.yml", lambda s: f"fail_on: {s}\n".encode())
    add("cfg-unknown-key", "p.yml", lambda s: f"{s}: 1\n".encode())
    add("cfg-duplicate-key", "p.yml", lambda s: f"checks:\n  {s}: {{}}\n  {s}: {{}}\n".encode())
    add("cfg-disable", "p.yml", lambda s: f"disable: [{s}]\n".encode())
    add("cfg-check-id", "p.yml", lambda s: f"checks:\n  {s}: {{}}\n".encode())
    add("cfg-check-option", "p.yml", lambda s: f"checks:\n  PG103:\n    {s}: 1\n".encode())
    add(
        "cfg-check-value",
        "p.yml",
        lambda s: f"checks:\n  PG103:\n    max_destroyed: {s}\n".encode(),
    )
    add(
        "cfg-expires",
        "p.yml",
        lambda s: f"ignore:\n  - check: PG101\n    reason: x\n    expires: {s}\n".encode(),
    )
    add("cfg-approvals", "p.yml", lambda s: f"approvals:\n  required: {s}\n".encode())
    add("cfg-bad-utf8", "p.yml", lambda s: f"fail_on: {s}".encode() + b"\xff\n")
    add("cfg-toml-invalid", "p.toml", lambda s: f"fail_on = {s}\n".encode())
    add("cfg-toml-severity", "p.toml", lambda s: f'fail_on = "{s}"\n'.encode())
    add("cfg-toml-duplicate", "p.toml", lambda s: f'fail_on = "high"\nfail_on = "{s}"\n'.encode())
    add(
        "cfg-pyproject-severity",
        "pyproject.toml",
        lambda s: f'[tool.planguard]\nfail_on = "{s}"\n'.encode(),
    )
    add(
        "cfg-pyproject-invalid",
        "pyproject.toml",
        lambda s: f'[tool.planguard]\nfail_on = "{s}\n'.encode(),
    )
    # Found by discovery rather than given: the same checks apply.
    s = secret("cfg-found-pyproject")
    out.append(
        Case(
            "cfg-found-pyproject-invalid",
            "config",
            {"pyproject.toml": f'[tool.planguard]\nfail_on = "{s}\n'.encode(), "plan.json": plan},
            ["plan.json"],
            secrets=(s,),
            names="pyproject.toml",
        )
    )
    s = secret("cfg-found-yaml")
    out.append(
        Case(
            "cfg-found-yaml",
            "config",
            {".planguard.yml": f"fail_on: !x {s}\n".encode(), "plan.json": plan},
            ["plan.json"],
            secrets=(s,),
            names=".planguard.yml",
        )
    )
    for case in out:
        case.reads = ("review", "ack", "github")
    return out


def ack_cases(base: bytes) -> list[Case]:
    """Acknowledgement files: `base` is one `planguard ack` wrote for the PG101 plan."""
    out = []
    plan = PLAN.read_bytes()
    good = json.loads(base)

    def add(
        tag: str,
        change: Callable[[dict[str, Any], str], Any] | None = None,
        data: Callable[[str], bytes] | None = None,
    ) -> None:
        s = secret(tag)
        if data is not None:
            body = data(s)
        else:
            doc = json.loads(base)
            assert change is not None
            change(doc, s)
            body = _dump(doc)
        out.append(
            Case(
                tag,
                "ack",
                {"ack.json": body, "plan.json": plan},
                ["plan.json"],
                ["--ack", "ack.json"],
                secrets=(s,),
                names="ack.json",
            )
        )

    def entry(doc: dict[str, Any]) -> dict[str, Any]:
        first: dict[str, Any] = next(iter(doc["plans"].values()))["accepted"][0]
        return first

    add(
        "ack-truncated",
        data=lambda s: _dump({**good, "reason": s})[
            : _dump({**good, "reason": s}).index(s.encode()) + len(s)
        ],
    )
    add("ack-check", lambda d, s: entry(d).update(check=s))
    add("ack-fingerprint", lambda d, s: entry(d).update(fingerprint=s))
    add("ack-version", lambda d, s: d.update(planguard_ack=s))
    add("ack-plans-string", lambda d, s: d.update(plans=s))
    add("ack-empty-by", lambda d, s: d.update(by=" ", reason=s))
    add(
        "ack-bad-utf8",
        data=lambda s: _dump({**good, "reason": s}).replace(s.encode(), s.encode() + b"\xff"),
    )
    return out


def all_cases(ack_base: bytes) -> list[Case]:
    return [
        *terraform_cases(),
        *change_set_cases(),
        *template_cases(),
        *hcl_cases(),
        *config_cases(),
        *ack_cases(ack_base),
    ]


# -- running them ----------------------------------------------------------------


@dataclass
class Run:
    command: str
    code: int
    out: str
    err: str
    extra: str = ""  # the Action's step summary and outputs


@contextlib.contextmanager
def _in(directory: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    old_cwd, old_env = os.getcwd(), dict(os.environ)
    os.chdir(directory)
    for name in list(os.environ):
        if name.startswith(("PLANGUARD_", "GITHUB_")):
            del os.environ[name]
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def _main(
    argv: list[str], directory: Path, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with _in(directory, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _git(directory: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=directory,
        check=True,
        capture_output=True,
    )


def materialise(case: Case, directory: Path) -> None:
    for name, data in case.files.items():
        if name.startswith("head/"):
            continue
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if case.git:
        _git(directory, "init", "-q", ".")
        _git(directory, "add", "-A")
        _git(directory, "commit", "-qm", "base")
        for name, data in case.files.items():
            if name.startswith("head/"):
                (directory / name.removeprefix("head/")).write_bytes(data)


def run_case(case: Case, directory: Path) -> list[Run]:
    materialise(case, directory)
    runs = []
    for argv in case.commands():
        code, out, err = _main(argv, directory)
        runs.append(Run(" ".join(argv[:1]), code, out, err))
    env = case.action_env()
    if env is not None:
        summary, outputs = directory / "step-summary.md", directory / "github-output"
        env.update(
            GITHUB_EVENT_NAME="push",
            GITHUB_EVENT_PATH=str(FIXTURES / "github/events/push.json"),
            GITHUB_REPOSITORY="acme/infra",
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_OUTPUT=str(outputs),
            GITHUB_WORKSPACE=str(directory),
            PLANGUARD_COMMENT="off",
        )
        code, out, err = _main(["github"], directory, env)
        extra = "".join(p.read_text(errors="replace") for p in (summary, outputs) if p.exists())
        runs.append(Run("github", code, out, err, extra))
    return runs


def leaked(case: Case, runs: list[Run]) -> list[str]:
    """The planted secrets of which any 8 characters in a row were shown."""
    shown = "\n".join(r.out + r.err + r.extra for r in runs).lower()
    found = []
    for s in case.secrets:
        low = s.lower()
        if any(low[i : i + 8] in shown for i in range(len(low) - 7)):
            found.append(s)
    return found


def failed_closed(case: Case, run: Run) -> bool:
    """Refused (exit 2, one line naming the file) or, for a contradiction, blocked
    by PG001 (exit 1)."""
    if case.blocked:
        return run.code == EXIT_BLOCKED and "PG001" in run.out
    lines = run.err.splitlines()
    return (
        run.code == EXIT_INPUT
        and len(lines) == 1
        and lines[0].startswith("planguard: error: ")
        and case.names in lines[0]
        and (run.command == "github" or run.out == "")
    )


def _ack_base(directory: Path) -> bytes:
    shutil.copy(PLAN, directory / "plan.json")
    code, _, err = _main(
        ["ack", "plan.json", "--reason", "accepted", "--by", "bob", "-o", "a.json"], directory
    )
    assert code == 0, err
    return (directory / "a.json").read_bytes()


# -- the tests -----------------------------------------------------------------------


def _cases() -> list[Any]:
    with tempfile.TemporaryDirectory() as tmp:
        base = _ack_base(Path(tmp))
    params = []
    for case in all_cases(base):
        marks = [pytest.mark.xfail(reason=case.known, strict=False)] if case.known else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", _cases())
def test_bad_input_fails_closed_without_its_secret(case: Case, tmp_path: Path) -> None:
    runs = run_case(case, tmp_path)
    for run in runs:
        detail = f"{run.command}: exit {run.code}\nstdout: {run.out[-2000:]!r}\nstderr: {run.err!r}"
        assert failed_closed(case, run), detail
    assert leaked(case, runs) == []


def test_every_loader_and_the_action_are_covered(tmp_path: Path) -> None:
    cases = all_cases(_ack_base(tmp_path))
    assert {c.loader for c in cases} == {
        "terraform",
        "cfn-change-set",
        "cfn-template",
        "hcl",
        "config",
        "ack",
    }
    assert len(cases) >= 90
    assert len({c.id for c in cases}) == len(cases)
    action = [c for c in cases if c.action_env() is not None]
    assert {c.loader for c in action} == {c.loader for c in cases}
    every_secret = [s for c in cases for s in c.secrets]
    assert PEM_BODY in every_secret and HEREDOC_SECRET in every_secret
    for case in cases:  # every secret is really in the case's files
        blob = b"".join(case.files.values())
        for s in case.secrets:
            assert s.encode() in blob or s.encode("utf-16-le") in blob, (case.id, s)


def counts() -> dict[str, int]:
    """Inputs tried, failed closed (every command), secrets planted and leaked."""
    tried = closed = planted = leaks = commands = 0
    with tempfile.TemporaryDirectory() as tmp:
        cases = all_cases(_ack_base(Path(tmp)))
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            runs = run_case(case, Path(tmp))
        tried += 1
        commands += len(runs)
        closed += all(failed_closed(case, r) for r in runs)
        planted += len(case.secrets)
        leaks += len(leaked(case, runs))
    return {
        "inputs tried": tried,
        "command runs": commands,
        "failed closed": closed,
        "secrets planted": planted,
        "secrets leaked": leaks,
    }


if __name__ == "__main__":
    for name, value in counts().items():
        print(f"{name}: {value}")


def test_an_unknown_action_reason_is_read_and_never_shown(tmp_path: Path) -> None:
    """Terraform adds reason codes over its versions: an unknown one is no bad
    input, but it is input, so it is shown as unknown, never as it is."""
    secret = "SEKRET-terraform-reason-1234"
    doc = json.loads((FIXTURES / "terraform/real/replace-orders/output.json").read_text())
    doc["resource_changes"][0]["action_reason"] = secret
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    for fmt in ("terminal", "markdown", "json", "sarif"):
        out = subprocess.run(
            [sys.executable, "-m", "planguard", "review", str(path), "-f", fmt],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode in (0, 1), out.stderr
        assert secret not in out.stdout + out.stderr
    assert "a reason planguard does not know" in out.stdout or fmt == "sarif"
