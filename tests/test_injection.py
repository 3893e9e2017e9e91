"""Injection: crafted names cannot steer any output.

Resource addresses (for_each and module keys), attribute-derived text, reasons,
CloudFormation stack names and the plan's own file name are controlled by
whoever writes the pull request. In Markdown they must not mention anyone, open
HTML, or close a code fence, a comment or a <details>; in mermaid and DOT they
must stay inside their label; SARIF and JSON must stay valid; the terminal gets
no escape sequences; Jinja2 never evaluates them; GitHub workflow commands
cannot be started from them.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.cli import main

# One string per kind of attack; each ends up in keys, names, reasons and paths.
CRAFTED = [
    "@octocat please approve",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "</details><details open>",
    "<!-- hidden -->",
    "```\n# fenced out",
    "~~~ tilde",
    "]] ; click n0 call evil() %%{init: {}}%%",
    '"]; n9["owned',
    "{{ 7*191 }}{% raw %}",
    "\n::error title=pwned::injected\n",
    "::set-output name=blocked::false",
    "\x1b[2J\x1b]8;;https://evil.example\x07link",
    "line\rover\u2028sep\u202eevil",
    "[link](https://evil.example) **bold** | cell |",
    "#1 fixes #2 ${{ secrets.GITHUB_TOKEN }}",
]
JINJA_RESULT = "1337"  # 7*191: must never appear


def _key(i: int) -> str:
    return f"k{i}-{CRAFTED[i]}"


def crafted_plan() -> dict:
    """A plan blocked for many reasons, every user-controlled string crafted."""
    changes = []
    resources = []
    for i in range(len(CRAFTED)):
        key = json.dumps(_key(i))
        for action, kind in (("delete", "aws_db_instance"), ("create", "aws_db_instance")):
            prefix = f"module.m[{key}]." if action == "delete" else ""
            name = "old" if action == "delete" else "new"
            address = f"{prefix}{kind}.{name}[{key}]"
            body = {"identifier": "same", "engine": "postgres", "deletion_protection": False}
            changes.append(
                {
                    "address": address,
                    "module_address": f"module.m[{key}]" if prefix else None,
                    "mode": "managed",
                    "type": kind,
                    "name": name,
                    "index": _key(i),
                    "provider_name": f"registry.terraform.io/hashicorp/aws{CRAFTED[i]}",
                    "action_reason": CRAFTED[i] if action == "delete" else None,
                    "change": {
                        "actions": [action],
                        "before": body if action == "delete" else None,
                        "after": body if action == "create" else None,
                        "after_unknown": {},
                        "before_sensitive": {},
                        "after_sensitive": {},
                    },
                }
            )
            resources.append(address)
    changes.append(
        {
            "address": f"aws_security_group.web[{json.dumps(_key(0))}]",
            "type": "aws_security_group",
            "name": "web",
            "index": _key(0),
            "change": {
                "actions": ["update"],
                "before": {"ingress": []},
                "after": {
                    "ingress": [
                        {
                            "cidr_blocks": ["0.0.0.0/0"],
                            "from_port": 22,
                            "to_port": 22,
                            "protocol": "tcp",
                            "description": CRAFTED[1],
                        }
                    ]
                },
            },
        }
    )
    for c in changes:
        if c.get("module_address") is None:
            c.pop("module_address", None)
    state = [
        {
            "address": f"aws_security_group.web[{json.dumps(_key(0))}]",
            "depends_on": [resources[i] for i in range(0, len(resources), 2)],
        }
    ]
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": state}}},
    }


def change_set() -> dict:
    return {
        "ChangeSetName": "cs",
        "StackName": "app</details>@octocat<img src=x onerror=alert(1)>",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Remove",
                    "LogicalResourceId": "Db",
                    "PhysicalResourceId": "db-`x`@octocat</details>",
                    "ResourceType": "AWS::RDS::DBInstance",
                    "Scope": [],
                    "Details": [],
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    tmp = tmp_path_factory.mktemp("crafted")
    # The file name is user-controlled too (it is shown as the plan's name).
    plan = tmp / "plan-@octocat-<b>x<i>-```.json"
    plan.write_text(json.dumps(crafted_plan()), encoding="utf-8")
    cs = tmp / "cs.json"
    cs.write_text(json.dumps(change_set()), encoding="utf-8")
    return {"plan": [str(plan)], "change-set": [str(cs)]}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def review(paths: list[str], fmt: str, *extra: str) -> str:
    code, out, err = run("review", "--format", fmt, *extra, *paths)
    assert code == 1, err
    assert err == ""
    return out


NAMES = ["plan", "change-set"]


def _outside_code(markdown: str) -> str:
    """The Markdown with planguard's own fenced blocks removed."""
    out, fence = [], None
    for line in markdown.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if line.strip() == fence:
                fence = None
            continue
        out.append(line)
    assert fence is None, "a code fence is left open"
    return "\n".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_markdown(inputs: dict[str, list[str]], name: str) -> None:
    md = review(inputs[name], "markdown")
    prose = _outside_code(md)
    # Mentions are broken with a zero-width joiner (GitHub ignores them in code blocks).
    assert "@octocat" not in prose
    # Inside planguard's code blocks text is literal; outside, no user HTML.
    for tag in ("<img", "<script", "<b>", "<details open"):
        assert tag not in prose.lower()
    assert prose.count("<details>") == prose.count("</details>")
    assert prose.count("<!--") == md.count("<!-- planguard")
    assert JINJA_RESULT not in md
    assert "\x1b" not in md and "\r" not in md and "\u202e" not in md
    assert "](https://evil.example)" not in prose
    # Every line a fence opens or closes is planguard's own.
    for line in md.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            assert re.fullmatch(r"\s*(`{3,}|~{3,})(mermaid|hcl|text|diff)?", line), line


# Every line planguard writes in a mermaid block: user text only ever inside
# a quoted label, entity-coded; the picture's own <br> between label lines.
_LABEL = r'"(?:[^"<>%;{}|`\n\x1b&]|#\d+;|<br>)*"'
MERMAID_LINE = re.compile(
    "|".join(
        [
            r'%%\{init: \{"flowchart": \{"padding": \d+, "nodeSpacing": \d+, '
            r'"rankSpacing": \d+\}\}\}%%',
            r"flowchart TB",
            rf"  subgraph (?:pic|legend|m0) \[{_LABEL}\]",
            r" +direction (?:LR|TB)",
            r" +end",
            rf" +[nk]\d+\[{_LABEL}\]",
            r" +n\d+ (?:-->|-\.->) n\d+",
            r"  pic ~~~ legend",
            r"  classDef \w+ [\w:#.,\- ]+",
            r"  class [nk\d,]+ \w+",
            r"  style \w+ [\w:#.,\- ]+",
        ]
    )
)


@pytest.mark.parametrize("name", NAMES)
def test_mermaid(inputs: dict[str, list[str]], name: str) -> None:
    code, text, err = run("graph", "--format", "mermaid", *inputs[name])
    assert code == 0, err
    for line in text.rstrip("\n").split("\n"):
        assert MERMAID_LINE.fullmatch(line), line
    md = review(inputs[name], "markdown")
    in_mermaid = re.findall(r"```mermaid\n(.*?)\n```", md, re.S)
    for block in in_mermaid:
        for line in block.split("\n"):
            assert MERMAID_LINE.fullmatch(line), line


@pytest.mark.parametrize("name", NAMES)
def test_dot(inputs: dict[str, list[str]], name: str) -> None:
    code, text, err = run("graph", "--format", "dot", *inputs[name])
    assert code == 0, err
    quoted = r'"(?:[^"\\\n]|\\.)*"'
    for line in text.rstrip("\n").split("\n")[3:-1]:
        assert re.fullmatch(rf"  {quoted} \[color=\w+\];", line) or re.fullmatch(
            rf'  {quoted} -> {quoted} \[label="\w*"\];', line
        ), line


@pytest.mark.parametrize("name", NAMES)
def test_json_and_graph_json_round_trip(inputs: dict[str, list[str]], name: str) -> None:
    doc = json.loads(review(inputs[name], "json"))
    addresses = {row["address"] for plan in doc["plans"] for row in plan["destructive"]}
    if name == "plan":
        # Kept verbatim, as data (Terraform writes the key's newline as \n).
        assert any(json.dumps(CRAFTED[5])[1:-1] in a for a in addresses)
    code, text, _ = run("graph", "--format", "json", *inputs[name])
    assert code == 0
    json.loads(text)


@pytest.mark.parametrize("name", NAMES)
def test_sarif(inputs: dict[str, list[str]], name: str) -> None:
    doc = json.loads(review(inputs[name], "sarif"))
    for run_ in doc["runs"]:
        for result in run_["results"]:
            md = result["message"].get("markdown", "")
            assert "@octocat" not in md
            assert "<img" not in md and "<script" not in md
            # Fingerprints are digests (of the plan's path too, which differs
            # per run): hex that may spell the number by chance, and no text.
            fingerprints = result.pop("partialFingerprints")
            assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in fingerprints.values())
            assert JINJA_RESULT not in json.dumps(result)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("extra", [(), ("--verbose",), ("--verbose", "--color")])
def test_terminal(inputs: dict[str, list[str]], name: str, extra: tuple[str, ...]) -> None:
    text = review(inputs[name], "terminal", *extra)
    if "--color" in extra:
        # planguard's own colours are SGR sequences only: no OSC links, no screen clears.
        assert not re.search(r"\x1b(?!\[[0-9;]*m)", text)
    else:
        assert "\x1b" not in text
    assert "\x07" not in text and "\r" not in text and "\u202e" not in text
    assert JINJA_RESULT not in text


@pytest.mark.parametrize("name", NAMES)
def test_summary(inputs: dict[str, list[str]], name: str) -> None:
    code, text, err = run("summary", *inputs[name])
    assert code == 0, err
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    code, text, err = run("summary", "--format", "json", *inputs[name])
    json.loads(text)


def test_error_message_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x\n::error::pwned\x1b[2J.json"
    bad.write_text("{", encoding="utf-8")
    code, out, err = run("review", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "\x1b" not in err
    assert not any(line.startswith("::") for line in err.split("\n"))


@pytest.mark.parametrize("text", CRAFTED)
def test_workflow_commands_cannot_be_started(text: str) -> None:
    from planguard.github_workflow import command, fenced

    line = command("error", text, file=text, title=text)
    assert line.endswith("\n") and line.count("\n") == 1 and "\r" not in line
    props = line[len("::error ") :].partition("::")[0]
    assert "::" not in props  # a property cannot end the property list early
    body = fenced(f"{text}\n::error::still inert\n")
    first = body.split("\n")[0]
    token = first.removeprefix("::stop-commands::")
    assert len(token) == 32
    assert body.rstrip("\n").endswith(f"::{token}::")
    assert body.count(token) == 2


def test_jinja_never_renders_user_text_as_a_template() -> None:
    """Templates are files; user text only ever arrives as data."""
    from planguard.report import markdown, markdown_env, markdown_text

    env = markdown._environment()
    assert not isinstance(env.loader, type(None))
    for module in (markdown, markdown_env, markdown_text):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert "from_string" not in source, module.__name__
        assert "Template(" not in source, module.__name__


# -- references and invisible characters (every format a person reads) -------------

HIDDEN = {
    "\U000e0049": "\\u{E0049}",  # a TAG character (can spell hidden text)
    "\u061c": "\\u{061C}",  # Arabic letter mark (bidi)
    "\u00ad": "\\u{00AD}",  # soft hyphen
    "\u3164": "\\u{3164}",  # Hangul filler
    "\u115f": "\\u{115F}",  # Hangul choseong filler
    "\u034f": "\\u{034F}",  # combining grapheme joiner
    "\u202e": "\\u{202E}",  # right-to-left override
}


def _hidden_plan(tmp_path: Path) -> Path:
    plan = json.loads((FIXTURES / "checks/PG101/bad.json").read_text())
    key = "db" + "".join(HIDDEN) + "fixes acme/infra#12 GH-2 #1 " + "ab" * 20
    for rc in plan["resource_changes"]:
        if rc["address"] == "aws_db_instance.billing":
            rc["address"] = f'aws_db_instance.billing["{key}"]'
            rc["index"] = key
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "sarif"])
def test_invisible_characters_are_shown_escaped(tmp_path: Path, fmt: str) -> None:
    path = _hidden_plan(tmp_path)
    out = tmp_path / "out"
    assert main(["review", str(path), "--format", fmt, "-o", str(out)]) == 1
    text = out.read_text()
    if fmt == "sarif":  # what code scanning shows a person: the results' messages
        runs = json.loads(text)["runs"]
        text = "\n".join(r["message"]["text"] for run in runs for r in run["results"])
    for char, shown in HIDDEN.items():
        assert char not in text, (fmt, shown)
        assert shown.lstrip("\\") in text, (fmt, shown)  # \u{...}, its backslash escaped


def test_issue_and_commit_references_do_not_link_in_the_comment(tmp_path: Path) -> None:
    path = _hidden_plan(tmp_path)
    out = tmp_path / "comment.md"
    assert main(["review", str(path), "--format", "markdown", "-o", str(out)]) == 1
    text = out.read_text()
    for reference in ("acme/infra#12", "#1 ", "GH-2", "ab" * 20):
        assert reference not in text, reference
    assert "#\u200d12" in text and "GH-\u200d2" in text


def test_a_huge_key_is_shown_cut_with_its_length(tmp_path: Path) -> None:
    """A 2,000,000-character for_each key is shown as its ends and its length."""
    plan = json.loads((FIXTURES / "checks/PG101/bad.json").read_text())
    key = "k" * 1_000_000 + "z" * 1_000_000
    for rc in plan["resource_changes"]:
        if rc["address"] == "aws_db_instance.billing":
            rc["address"] = f'aws_db_instance.billing["{key}"]'
            rc["index"] = key
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    out = tmp_path / "out.txt"
    assert main(["review", str(path), "-o", str(out)]) == 1
    text = out.read_text()
    assert "characters)…" in text
    assert len(text) < 50_000
