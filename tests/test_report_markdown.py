"""The Markdown PR comment: escaping, GitHub-flavoured validity, size bound, snapshots.

Reviews come from the real loader on real files (fixtures/, or big plans
written to tmp_path). Snapshots: refresh with `python tests/update_snapshots.py`.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import cmarkgfm
import msgspec
import pytest
from cmarkgfm.cmark import Options
from report_cases import generate, write_big_plan
from update_snapshots import SNAPSHOTS, TODAY, Case, at_root, build, cases, diff, render

from helpers import ROOT
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity
from planguard.load import load
from planguard.registry import all_checks
from planguard.report import Format
from planguard.report import render as render_report
from planguard.report.markdown import MARKER, MAX_CHARS, code_block, md_escape
from planguard.report.markdown import render as render_md
from planguard.review import Review

CRAFTED = Case(
    "crafted", ("fixtures/report/crafted-names.json",), actor="@octocat", formats=("md",)
)


def to_html(markdown: str) -> str:
    # UNSAFE lets raw HTML through, as GitHub's renderer does before its
    # sanitizer: anything the comment does not escape would show up here.
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def review_of(*paths: str, config: Config | None = None, actor: str | None = None) -> Review:
    with at_root():
        plans = load(list(paths))
    return review(plans, all_checks(), config or Config(), actor=actor, today=TODAY)


@pytest.fixture(scope="module")
def crafted() -> Review:
    return build(CRAFTED)


# -- escaping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '<img src=x onerror="alert(1)">',
        "</details><script>alert(1)</script>",
        "a|b|c",
        "```hcl",
        "*bold* _em_ [link](https://x) ~~s~~ $x$ \\",
        "line1\nline2\r\nline3\x1b[31m",
        "<!-- hidden -->",
        "&lt;already&gt;",
    ],
)
def test_md_escape_leaves_no_markup(text: str) -> None:
    out = md_escape(text)
    assert "<" not in out and ">" not in out
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    # Every Markdown control character is preceded by a backslash.
    assert not re.search(r"(?<!\\)[|`*_\[\]~$]", out.replace("\\\\", ""))
    assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt|quot);)*", out)


def test_md_escape_breaks_mentions_and_bounds_length() -> None:
    assert md_escape("@octocat") == "@\u200doctocat"
    assert "@octocat" not in md_escape("team @octocat/admins")
    assert len(md_escape("x" * 5000, 100)) == 100
    # Bidi overrides could make an address read as something else.
    # Shown, not dropped: a reader sees that the name holds them.
    assert md_escape("a\u202eb\u200bc") == "a\\\\u{202E}b\\\\u{200B}c"


def test_code_block_cannot_be_closed_from_inside() -> None:
    content = 'moved {\n  from = a["```"]\n  to   = b["````"]\n}\n```\n</details>'
    block = code_block(content, "hcl")
    assert block.startswith("`````hcl\n") and block.endswith("\n`````")
    html = to_html(f"- item\n{code_block(content, 'hcl', 2)}\n\nafter\n")
    assert html.count("<pre") == 1
    assert "&lt;/details&gt;" in html and "</details>" not in html
    assert "<p>after</p>" in html


# -- content -------------------------------------------------------------------------


def test_marker_then_verdict_first(crafted: Review) -> None:
    text = render_md(crafted)
    lines = text.splitlines()
    assert MARKER == "<!-- planguard-report -->"
    assert lines[0] == MARKER
    assert lines[1].startswith("### ⛔ planguard: blocked — critical risk (score ")
    assert lines[3].startswith("**This plan destroys 6 and replaces 1 of 8 existing resources")
    assert "including 7 data stores (bucket, database)" in lines[3]
    assert lines[4] == ""  # its own paragraph
    assert lines[5].startswith("To proceed:")
    # One rule, the README's: approvals that count, or an acknowledgement on the base.
    assert "an approving review of the head commit from someone with write access" in lines[5]
    assert "who neither opened nor pushed to this change" in lines[5]
    assert "planguard ack fixtures/report/crafted-names.json --by NAME" in lines[5]
    assert "counts once it is on the base branch" in lines[5]


def test_crafted_names_render_as_text_not_html(crafted: Review) -> None:
    text = render_md(crafted)
    html = to_html(text)
    for bad in ("<img", "<script", "<b>", "onerror=alert(1)>", "<!-- @admin", "<a href"):
        assert bad not in html, bad
    assert "@octocat" not in html and "@admin" not in html
    assert "@\u200doctocat" in html
    # Only the comment's own <details> blocks, all closed.
    assert html.count("<details>") == html.count("</details>") == 2
    # The counts and destructive tables are tables, with every row intact
    # although keys hold `|` and (escaped) newlines.
    assert html.count("<table>") == 2
    destructive = html.split("<table>")[2].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", destructive, re.S)
    assert len(rows) == 1 + 7
    assert all(row.count("<td") == 6 for row in rows[1:])
    assert "&lt;img src=x onerror=alert(1)&gt;" in destructive
    assert "a|b" in destructive
    # The mermaid block holds entity-coded labels only.
    mermaid = text.split("```mermaid\n")[1].split("```")[0]
    labels = re.findall(r'^ +n\d+\["(.*)"\]$', mermaid, re.M)
    assert len(labels) == 3  # the six buckets are siblings with the same neighbours: one box
    assert not any(re.search(r'[<>`|@"()*]', label.replace("<br>", "")) for label in labels)


def test_crafted_markdown_is_stable_under_input_order(crafted: Review) -> None:
    text = render_md(crafted)
    assert render_md(crafted) == text
    with at_root():
        (plan,) = load(["fixtures/report/crafted-names.json"])
    shuffled = msgspec.structs.replace(
        plan,
        changes=plan.changes[::-1],
        edges=plan.edges[::-1],
        resources=dict(reversed(plan.resources.items())),
    )
    again = review([shuffled], all_checks(), Config(), actor="@octocat", today=TODAY)
    assert render_md(again) == text


def test_passed_and_passed_with_findings() -> None:
    clean = review_of("fixtures/terraform/real/forget/output.json")
    text = render_md(clean)
    assert "### ✅ planguard: passed — no findings (score 0/100)" in text
    assert "To proceed" not in text
    assert "**This plan destroys and replaces nothing** (3 removed from state only)." in text

    lenient = Config(fail_on=Severity.CRITICAL)
    result = review_of("fixtures/checks/PG104/bad.json", config=lenient)
    assert not result.verdict.blocked and result.verdict.kept
    text = render_md(result)
    assert text.splitlines()[1].startswith(
        f"### ⚠️ planguard: passed with findings — {result.verdict.level_name} risk"
    )


def test_predicted_plans_say_so() -> None:
    with at_root():
        (plan,) = load(["fixtures/terraform/real/count-foreach/output.json"])
    predicted = msgspec.structs.replace(plan, predicted=True)
    result = review([predicted], all_checks(), Config(), today=TODAY)
    text = render_md(result)
    assert "**Predicted, not planned:**" in text
    assert "not computed by Terraform or CloudFormation against real state" in text


def test_several_plans_one_verdict_a_section_each() -> None:
    result = review_of(
        "fixtures/terraform/real/deposed/output.json",
        "fixtures/checks/PG104/bad.json",
    )
    text = render_md(result)
    assert len(re.findall(r"^### ", text, re.M)) == 1
    assert "**These 2 plans destroy" in text
    assert "#### Plan <code>fixtures/terraform/real/deposed/output.json</code>" in text
    assert "#### Plan <code>fixtures/checks/PG104/bad.json</code>" in text
    assert "planguard ack fixtures/terraform/real/deposed/output.json fixtures/checks/" in text


def _finding(i: int, check: str, severity: Severity, **kw: object) -> Finding:
    return Finding(
        check_id=check,
        severity=severity,
        title=f"title of {check}",
        message=f"message {i}",
        plan="fixtures/report/crafted-names.json",
        address=f"aws_s3_bucket.b{i:02d}",
        **kw,  # type: ignore[arg-type]
    )


def test_findings_grouped_by_check_with_suggestions(crafted: Review) -> None:
    suggestion = 'moved {\n  from = module.a["```"]\n  to   = module.b\n}\n'
    kept = [_finding(i, "PG101", Severity.CRITICAL) for i in range(12)]
    kept += [_finding(i, "PG106", Severity.HIGH, suggestion=suggestion) for i in range(2)]
    kept += [_finding(0, "PG301", Severity.MEDIUM), _finding(0, "PG999", Severity.LOW)]
    kept += [_finding(0, "PG401", Severity.INFO)]
    result = dataclasses.replace(crafted, verdict=dataclasses.replace(crafted.verdict, kept=kept))
    text = render_md(result)
    findings = text.split("**Findings**")[1].split("<details>")[0]
    items = [line for line in findings.splitlines() if line.startswith("- ")]
    assert [item.split()[1] for item in items] == ["🔴", "🟠", "🟡", "🔵", "⚪"]
    assert "(+11 more: <code>aws\\_s3\\_bucket.b01</code>," in items[0]
    assert items[0].endswith(", …)")
    # Both PG106 findings carry the same suggestion: shown once, in a fence
    # its ``` cannot close.
    assert findings.count("````hcl") == 1
    html = to_html(text)
    assert '<pre lang="hcl"><code>moved {\n  from = module.a[&quot;```&quot;]' in html


def test_suppressed_section_lists_each_with_its_reason() -> None:
    result = build(
        Case(
            "x",
            ("fixtures/report/crafted-names.json",),
            ignores=(("PG101", "aws_s3_bucket.x*", "emptied first | see <runbook> @ops"),),
        )
    )
    text = render_md(result)
    section = text.split("<details><summary>Suppressed (6)</summary>")[1].split("</details>")[0]
    assert section.count("\n- PG101 <code>") == 6
    assert "emptied first \\| see &lt;runbook&gt; @\u200dops" in section
    assert text.rstrip().endswith("· 6 findings suppressed</sub>")


def test_footer_names_automation_policy() -> None:
    result = review_of("fixtures/terraform/real/moved/output.json", actor="renovate[bot]")
    footer = render_md(result).rstrip().splitlines()[-1]
    assert footer == (
        "<sub>planguard 0.1.0 · fail-on: medium · author <code>renovate\\[bot\\]</code> "
        "matched automation policy · 0 findings suppressed</sub>"
    ).replace("0.1.0", result.version)


# -- size bound ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["gen_plan", "local"])
def big(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Review:
    path = tmp_path_factory.mktemp("big") / "plan.json"
    if request.param == "gen_plan":
        if not generate(path, 5000):
            pytest.skip("benchmarks/gen_plan.py is not there")
    else:
        write_big_plan(path)
    (plan,) = load([str(path)])
    return review([plan], all_checks(), Config(), today=TODAY)


def _valid(text: str) -> str:
    html = to_html(text)
    assert html.count("<details>") == html.count("</details>")
    assert text.count("```mermaid") == html.count('<pre lang="mermaid">')
    return html


def test_big_plan_fits_a_comment(big: Review) -> None:
    text = render_md(big)
    assert len(text) <= MAX_CHARS
    assert text.startswith(MARKER + "\n### ⛔ planguard: blocked")
    html = _valid(text)
    assert html.count("<table>") == 2
    assert "… " in text and " more |" in text  # destructive rows are bounded
    # The impact graph, when shown, is bounded; "+N more" boxes hang off the
    # box whose dependents they count, never alone.
    if "```mermaid" in text:
        mermaid = text.split("```mermaid\n")[1].split("```")[0]
        assert len(re.findall(r'^ +n\d+\["', mermaid, re.M)) <= 40
        more = re.findall(r'^ +(n\d+)\["#43;\d+ more"\]$', mermaid, re.M)
        assert all(re.search(rf"^ +n\d+ -\.-> {m}$", mermaid, re.M) for m in more)


@pytest.mark.parametrize("limit", [30_000, 12_000, 6_000, 2_500, 600])
def test_size_bound_drops_detail_progressively(big: Review, limit: int) -> None:
    text = render_md(big, max_chars=limit)
    assert len(text) <= limit
    assert "report truncated" in text
    assert "see the JSON report / job log" in text
    _valid(text)
    if limit >= 6_000:
        # Verdict, headline and guidance survive any truncation.
        assert text.splitlines()[1].startswith("### ⛔ planguard: blocked")
        assert "To proceed:" in text


def test_truncation_order(big: Review) -> None:
    full = render_md(big, max_chars=10**9)
    assert "report truncated" not in full
    assert "<summary>All " in full
    smaller = render_md(big, max_chars=len(full) - 1)
    assert "<summary>All " not in smaller and "report truncated" in smaller


# -- snapshots ------------------------------------------------------------------------


SNAPSHOT_NAMES = [(case, ext) for case in cases() for ext in case.formats if ext in ("md", "txt")]


@pytest.mark.parametrize(
    ("case", "ext"), SNAPSHOT_NAMES, ids=[f"{c.name}.{e}" for c, e in SNAPSHOT_NAMES]
)
def test_snapshot(case: Case, ext: str) -> None:
    name = f"{case.name}.{ext}"
    path = SNAPSHOTS / name
    actual = render(case)[name]
    if not path.exists():
        pytest.fail(f"no snapshot {name}: run `python tests/update_snapshots.py`")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        pytest.fail(
            f"{name} differs from the stored snapshot (refresh with "
            f"`python tests/update_snapshots.py` if the change is intended):\n"
            + diff(expected, actual, name),
            pytrace=False,
        )
    if ext == "md":
        html = _valid(actual)
        # Every table written (a delimiter row) is a table GitHub draws.
        delimiters = re.findall(r"^\|(?:-{3,}:?\|)+$", actual, re.M)
        assert html.count("<table>") == len(delimiters)


def test_render_dispatch_matches_module(crafted: Review) -> None:
    assert render_report(crafted, Format.MARKDOWN) == render_md(crafted)


def test_snapshots_are_portable() -> None:
    for path in SNAPSHOTS.iterdir():
        data = path.read_bytes()
        assert str(ROOT).encode() not in data, path.name
        assert b"\r" not in data, path.name


def test_template_is_package_data() -> None:
    import planguard.report

    templates = Path(planguard.report.__file__).parent / "templates"
    assert (templates / "comment.md.j2").is_file()


def test_rename_suggestion_is_an_hcl_block() -> None:
    text = render_md(build(Case("rename", ("fixtures/checks/PG106/bad.json",))))
    html = to_html(text)
    if "PG106" not in text:
        pytest.skip("PG106 does not fire on its bad fixture in this build")
    assert '<pre lang="hcl"><code>moved {' in html


def test_template_bytecode_cache_is_optional(tmp_path: Path, monkeypatch) -> None:
    """A cache directory that cannot be created means no cache, not an error."""
    from planguard.report import markdown

    monkeypatch.delenv("CI", raising=False)  # in CI a cache is kept only where named
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert markdown._bytecode_cache() is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = markdown._bytecode_cache()
    assert cache is not None
    env = markdown._environment.__wrapped__()
    env.bytecode_cache = cache
    first = env.get_template("comment.md.j2")
    assert list((tmp_path / "cache" / "planguard" / "templates").iterdir())
    env.cache.clear()
    second = env.get_template("comment.md.j2")  # from the bytecode cache
    assert first.root_render_func.__code__.co_code == second.root_render_func.__code__.co_code


def test_the_action_comment_is_bounded_once_and_whole(big: Review) -> None:
    """The Action put its gate text above a report already bounded at 65,536
    characters, then sliced the whole at 60,000: an open <details>, an escape
    cut in half. Now the report is rendered to fit what the gate leaves."""
    from planguard.github_action import _comment_body
    from planguard.two_person import Gate, gate_markdown

    gate = Gate(False, "waiting for approval (0 of 1 approvals).")
    full = render_md(big)
    # A gate long enough (many approvals that did not count) that both do not fit.
    gate_md = gate_markdown(big, gate, None, ["plan.json"]) + "x" * (MAX_CHARS - len(full) + 3_000)
    body = _comment_body("k" * 16, gate_md, big, full, "https://github.test/run/1")
    assert len(body) <= MAX_CHARS
    assert len(gate_md) + len(full) > MAX_CHARS  # it did have to fit
    _valid(body)
    assert body.rstrip().endswith("and the JSON report.</sub>")
    assert "report truncated" in body
