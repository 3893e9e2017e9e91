"""The run task server's parts: signature, payload, hosts, the review and the
task-results document, the report page and store, the policy source.

The server end to end (fake HCP Terraform, queue, callbacks, uvicorn) is in
tests/test_runtask_server.py. Payloads and the callback example are
HashiCorp's documented ones (fixtures/runtask/README.md); the plans are the
redacted fixtures derived from real ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from helpers import FIXTURES
from planguard.errors import ConfigError, UsageError
from planguard.runtask import child, html, payload, policy, results, serve, signature
from planguard.runtask.hosts import HostError, HostPolicy, origin_of, parse_origin
from planguard.runtask.reports import ReportStore

RUNTASK = FIXTURES / "runtask"
KEY = b"a-run-task-hmac-key"


def body(name: str) -> bytes:
    return (RUNTASK / name).read_bytes()


# -- signature -------------------------------------------------------------------


def test_signature_is_hex_hmac_sha512_of_the_raw_body() -> None:
    raw = body("payload-post-plan.json")
    # As HashiCorp's docs compute it: echo -n $BODY | openssl dgst -sha512 -hmac $KEY
    if shutil.which("openssl"):
        out = subprocess.run(
            ["openssl", "dgst", "-sha512", "-hmac", KEY.decode()],
            input=raw,
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert out.strip().endswith(signature.sign(raw, KEY))
    assert signature.verify(raw, signature.sign(raw, KEY), KEY)
    assert signature.verify(raw, signature.sign(raw, KEY).upper(), KEY)


@pytest.mark.parametrize(
    "header",
    [None, "", "0" * 128, "not hex at all", "é" * 128],
)
def test_signature_missing_or_wrong_is_refused(header: str | None) -> None:
    assert not signature.verify(body("payload-post-plan.json"), header, KEY)


def test_signature_of_another_body_or_key_is_refused() -> None:
    raw = body("payload-post-plan.json")
    good = signature.sign(raw, KEY)
    assert not signature.verify(raw + b" ", good, KEY)
    assert not signature.verify(raw, good, KEY + b"x")
    assert not signature.verify(raw, good, b"")


# -- payload -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["payload-post-plan.json", "payload-post-plan-with-project.json"])
def test_documented_payloads_parse(name: str) -> None:
    task = payload.parse(body(name))
    assert task.stage == "post_plan"
    assert task.run_id == "run-i3Df5to9ELvibKpQ"
    assert task.task_result_enforcement_level == "mandatory"
    assert task.plan_json_api_url == (
        "https://app.terraform.io/api/v2/plans/plan-6AFmRJW1PFJ7qbAh/json-output"
    )
    assert task.workspace == "hashicorp/tfr_github_0"
    assert task.access_token not in repr(task)
    assert not payload.is_verification(body(name))


def test_verification_request_is_told_apart() -> None:
    assert payload.is_verification(body("payload-verification.json"))
    assert not payload.is_verification(b"[]")
    assert not payload.is_verification(b"not json")


def _doc(**changes: Any) -> bytes:
    doc = json.loads(body("payload-post-plan.json"))
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{", "not JSON"),
        (b"[]", "expected `object`, got `array`"),
        (_doc(payload_version=2), "payload_version: not an allowed value"),
        (_doc(stage="later"), "stage: not an allowed value"),
        (_doc(access_token=None), "missing field `access_token`"),
        (_doc(access_token=""), "access_token: expected `str` of length >= 1"),
        (_doc(task_result_callback_url=7), "task_result_callback_url: expected `str`"),
        (_doc(plan_json_api_url=None), "stage post_plan without plan_json_api_url"),
    ],
)
def test_malformed_payload_is_refused_without_quoting_it(raw: bytes, problem: str) -> None:
    with pytest.raises(payload.PayloadError) as exc:
        payload.parse(raw)
    assert problem in str(exc.value)
    assert "later" not in str(exc.value)


def test_pre_plan_payload_needs_no_plan_url() -> None:
    task = payload.parse(_doc(stage="pre_plan", plan_json_api_url=None))
    assert task.plan_json_api_url is None


# -- hosts -------------------------------------------------------------------------


def test_default_hosts_are_hcp_terraform_and_its_archive() -> None:
    hosts = HostPolicy.from_env({})
    assert hosts.may_see_token("https://app.terraform.io/api/v2/task-results/x/callback")
    assert not hosts.may_see_token("https://archivist.terraform.io/v1/object/x")
    assert hosts.may_redirect_to("https://archivist.terraform.io/v1/object/x")
    for url in [
        "http://app.terraform.io/api/v2/plans/x",  # not https
        "https://app.terraform.io:8443/api/v2/plans/x",  # another port
        "https://app.terraform.io.evil.example/api",
        "https://evil.example/?https://app.terraform.io/",
        "https://user@app.terraform.io/api/v2/plans/x",
        "/api/v2/plans/x",
        "ftp://app.terraform.io/x",
    ]:
        assert not hosts.may_see_token(url), url
    assert not hosts.may_redirect_to("https://evil.example/v1/object/x")


def test_enterprise_host_archives_on_itself_unless_told() -> None:
    hosts = HostPolicy.from_env({"PLANGUARD_TFC_HOSTS": "tfe.example.com, app.terraform.io"})
    assert hosts.may_see_token("https://tfe.example.com/api/v2/plans/p/json-output")
    assert hosts.may_redirect_to("https://tfe.example.com/_archivist/v1/object/x")
    assert hosts.may_redirect_to("https://archivist.terraform.io/v1/object/x")
    told = HostPolicy.from_env(
        {
            "PLANGUARD_TFC_HOSTS": "tfe.example.com",
            "PLANGUARD_TFC_ARCHIVE_HOSTS": "files.example.com",
        }
    )
    assert told.may_redirect_to("https://files.example.com/x")
    assert not told.may_redirect_to("https://tfe.example.com/x")


def test_origins_parse_and_bad_ones_are_named() -> None:
    assert str(parse_origin("http://127.0.0.1:8123")) == "http://127.0.0.1:8123"
    assert str(parse_origin("App.Terraform.io")) == "https://app.terraform.io"
    assert origin_of("https://APP.terraform.io./x") == parse_origin("app.terraform.io")
    with pytest.raises(HostError, match="PLANGUARD_TFC_HOSTS"):
        HostPolicy.from_env({"PLANGUARD_TFC_HOSTS": "https://app.terraform.io/api"})
    with pytest.raises(HostError, match="PLANGUARD_TFC_ARCHIVE_HOSTS"):
        HostPolicy.from_env({"PLANGUARD_TFC_ARCHIVE_HOSTS": "not a host!"})


# -- the review and the task-results document ----------------------------------------


def review_fixture(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> child.Result:
    """The review process's answer for a fixture plan (run in this process)."""
    monkeypatch.chdir(tmp_path)  # the review works in its job directory; back after
    job = tmp_path / "job"
    job.mkdir()
    shutil.copy(RUNTASK / name, job / "run-i3Df5to9ELvibKpQ.json")
    return child.answer(child.Job(str(job), "run-i3Df5to9ELvibKpQ.json", None, 64 << 20))


def _shape(value: Any) -> Any:
    """Keys and types, not values: to compare with HashiCorp's example."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_destructive_redacted_plan_fails_with_one_outcome_per_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = review_fixture("redacted-incident-env-recreated.json", tmp_path, monkeypatch)
    assert result.error is None
    assert result.status == "failed"
    assert result.message.startswith("planguard: blocked — critical risk")
    assert "destroys 13 of 15 existing resources, including 3 data stores" in result.message
    assert "\n" not in result.message and len(result.message) <= results.MESSAGE_LIMIT
    ids = [o["attributes"]["outcome-id"].split("-")[0] for o in result.outcomes]
    assert ids == ["PG101", "PG101", "PG101", "PG103", "PG106"]
    assert result.findings == len(result.outcomes) == 5

    url = "https://planguard.example.com/reports/abc"
    doc = results.document(result.status, result.message, url, result.outcomes)
    example = json.loads(body("callback-example.json"))
    # The documented shape: data.type, attributes, relationships.outcomes.data[].
    assert _shape(doc)["data"]["attributes"] == _shape(example)["data"]["attributes"]
    assert doc["data"]["type"] == "task-results"
    outcome = doc["data"]["relationships"]["outcomes"]["data"][0]
    documented = example["data"]["relationships"]["outcomes"]["data"][0]
    assert outcome["type"] == documented["type"] == "task-result-outcomes"
    assert set(outcome["attributes"]) == set(documented["attributes"])
    attrs = outcome["attributes"]
    assert attrs["url"] == url
    assert attrs["tags"] == {"Severity": [{"label": "Critical", "level": "error"}]}
    assert attrs["description"] == (
        "PG101 Destroy of a data-bearing resource: module.env.aws_db_instance.billing"
    )
    # Markdown escaped as in the pull-request comment.
    assert "<code>module.env.aws\\_db\\_instance.billing</code>" in attrs["body"]
    assert "**Why:**" in attrs["body"] and "**How to fix:**" in attrs["body"]
    pg106 = doc["data"]["relationships"]["outcomes"]["data"][4]["attributes"]
    assert (
        "```hcl\nmoved {\n  from = module.env\n  to   = module.environment\n}\n```"
        in (pg106["body"])
    )
    assert result.markdown.startswith("<!-- planguard-report -->\n### ⛔ planguard: blocked")


def test_the_report_of_a_blocked_run_never_suggests_an_acknowledgement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No acknowledgement counts in a run task: its report says what does."""
    result = review_fixture("redacted-incident-env-recreated.json", tmp_path, monkeypatch)
    assert result.status == "failed"
    assert "planguard ack" not in result.markdown
    assert "second person acknowledge" not in result.markdown
    assert "add the block above and plan again, or fix the findings below and plan again." in (
        result.markdown
    )
    assert "This review takes no acknowledgements" in result.markdown


def test_tags_only_redacted_plan_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = review_fixture("redacted-tag-only.json", tmp_path, monkeypatch)
    assert (result.status, result.outcomes, result.error) == ("passed", [], None)
    assert result.message == (
        "planguard: passed — no findings (score 0/100): destroys and replaces nothing"
    )
    doc = results.document(result.status, result.message, None, result.outcomes)
    assert doc == {
        "data": {
            "type": "task-results",
            "attributes": {"status": "passed", "message": result.message},
        }
    }


def test_real_terraform_plan_redacted_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = review_fixture("redacted-count-foreach.json", tmp_path, monkeypatch)
    assert result.status == "passed"
    assert "destroys 4 of 8 existing resources" in result.message


def test_a_plan_that_cannot_be_read_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "job"
    job.mkdir()
    (job / "run-x.json").write_text('{"plan_format_version": "1.1", "resource_changes": 7}')
    result = child.answer(child.Job(str(job), "run-x.json", None, 64 << 20))
    assert result.status == "failed"
    assert result.error is not None and str(job) not in result.error
    assert result.message.startswith("planguard could not review this run: ")
    assert "\n" not in result.message


def test_the_workspace_cannot_bring_a_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy file beside the plan (or above it) is never read: the server's is."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".planguard.yml").write_text("disable: [PG101, PG103, PG106]\nfail_on: critical\n")
    job = tmp_path / "job"
    job.mkdir()
    (job / ".planguard.yml").write_text("disable: [PG101, PG103, PG106]\n")
    (job / ".planguard-ack.json").write_text("{}")
    shutil.copy(RUNTASK / "redacted-incident-env-recreated.json", job / "run-x.json")
    result = child.answer(child.Job(str(job), "run-x.json", None, 64 << 20))
    assert result.status == "failed" and result.findings == 5

    server_policy = tmp_path / "server-policy.yml"
    server_policy.write_text("disable: [PG101, PG103, PG106]\n")
    lenient = child.answer(child.Job(str(job), "run-x.json", str(server_policy), 64 << 20))
    assert lenient.status == "passed"


def test_failure_document_is_failed_with_one_line() -> None:
    doc = results.failure("the plan URL answered HTTP 404\nsecond line")
    assert doc == {
        "data": {
            "type": "task-results",
            "attributes": {
                "status": "failed",
                "message": "planguard could not review this run: the plan URL answered HTTP 404 "
                "second line",
            },
        }
    }


def test_outcomes_are_bounded_with_a_pointer_to_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "MAX_OUTCOMES", 2)
    result = review_fixture("redacted-incident-env-recreated.json", tmp_path, monkeypatch)
    assert [o["attributes"]["outcome-id"].split("-")[0] for o in result.outcomes] == [
        "PG101",
        "PG101",
        "PG",
    ]
    assert result.outcomes[-1]["attributes"]["description"] == "3 more findings in the full report"


# -- the report page and store --------------------------------------------------------


def test_report_page_keeps_the_comment_tags_and_escapes_any_other() -> None:
    text = (
        "<!-- planguard-report -->\n### ⛔ planguard: blocked\n\n"
        "| a |\n|---|\n| <code>x\\_y &lt;script&gt;</code> |\n\n"
        "<details><summary>All 2 changes</summary>\n\n- one\n\n</details>\n\n"
        "<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"
        "text <b onclick=x>bold</b> <sub>planguard 1</sub>\n"
    )
    out = html.to_html(text)
    assert "<code>x_y &lt;script&gt;</code>" in out
    assert "<details><summary>All 2 changes</summary>" in out and "</details>" in out
    assert "<sub>planguard 1</sub>" in out
    assert "planguard-report" not in out
    for bad in ("<script", "<img", "<b ", "onerror=alert(1)>"):
        assert bad not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    page = html.page(text, "acme/<prod> · run-1").decode()
    assert (
        page.startswith("<!doctype html>")
        and "<title>planguard — acme/&lt;prod&gt; · run-1" in page
    )


def test_report_page_of_a_real_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = review_fixture("redacted-incident-env-recreated.json", tmp_path, monkeypatch)
    page = html.page(result.markdown, "hashicorp/tfr_github_0 · run-i3Df5to9ELvibKpQ").decode()
    assert "<h3>⛔ planguard: blocked — critical risk" in page
    assert "<table>" in page and "<code>module.env.aws_db_instance.billing</code>" in page
    assert '<pre><code class="language-hcl">moved {' in page
    assert "<script" not in page


def test_report_store_forgets_after_the_ttl_and_beyond_the_limit() -> None:
    now = [1000.0]
    store = ReportStore(ttl=60, limit=2, clock=lambda: now[0])
    first = store.put(b"one")
    assert len(first) == 43 and store.get(first) == b"one"
    now[0] += 59
    second = store.put(b"two")
    assert store.get(first) == b"one"
    now[0] += 2
    assert store.get(first) is None and store.get(second) == b"two"
    third, fourth = store.put(b"3"), store.put(b"4")
    assert store.get(second) is None and len(store) == 2
    assert store.get(third) == b"3" and store.get(fourth) == b"4"
    now[0] += 61
    assert store.purge() == 2 and len(store) == 0


# -- settings: key, TTL, public URL, policy -------------------------------------------


def test_hmac_key_is_required_and_leaves_the_environment(tmp_path: Path) -> None:
    env = {"PLANGUARD_HMAC_KEY": "s3cret"}
    assert serve.key(serve.ServeOptions(), env) == b"s3cret"
    assert "PLANGUARD_HMAC_KEY" not in env
    with pytest.raises(UsageError, match=r"no HMAC key \(\$PLANGUARD_HMAC_KEY"):
        serve.key(serve.ServeOptions(), {})
    key_file = tmp_path / "key"
    key_file.write_bytes(b"from-a-file\n")
    assert serve.key(serve.ServeOptions(hmac_key_file=str(key_file)), {}) == b"from-a-file"
    key_file.write_bytes(b"\n")
    with pytest.raises(UsageError, match="no HMAC key"):
        serve.key(serve.ServeOptions(hmac_key_file=str(key_file)), {})


def test_durations_and_public_url() -> None:
    assert [serve.duration(t) for t in ("90", "90s", "30m", "72h", "7d")] == [
        90,
        90,
        1800,
        259200,
        604800,
    ]
    for bad in ("", "0", "-1h", "3 weeks"):
        with pytest.raises(UsageError, match="--report-ttl"):
            serve.duration(bad)
    assert serve.public_url("https://planguard.example.com/") == "https://planguard.example.com"
    with pytest.raises(UsageError, match="--public-url"):
        serve.public_url("planguard.example.com")


def test_policy_path_is_checked_at_start(tmp_path: Path) -> None:
    assert policy.resolve(None, str(tmp_path)) is None
    good = tmp_path / "policy.yml"
    good.write_text("fail_on: critical\n")
    assert policy.resolve(str(good), str(tmp_path)) == str(good)
    bad = tmp_path / "bad.yml"
    bad.write_text("fail_on: sometimes\n")
    with pytest.raises(ConfigError, match=r"bad\.yml"):
        policy.resolve(str(bad), str(tmp_path))


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_policy_is_fetched_at_the_pinned_commit(tmp_path: Path) -> None:
    repo = tmp_path / "policies"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / ".planguard.yml").write_text("fail_on: critical\n")
    (repo / "strict").mkdir()
    (repo / "strict" / "policy.yml").write_text("fail_on: low\n")
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one", cwd=repo)
    pinned = _git("rev-parse", "HEAD", cwd=repo)
    (repo / ".planguard.yml").write_text("fail_on: info\n")
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "two", cwd=repo)

    found = policy.resolve(f"git+file://{repo}@{pinned}", str(tmp_path / "a"))
    assert found is not None and Path(found).read_text() == "fail_on: critical\n"
    nested = policy.resolve(f"git+file://{repo}@{pinned}#strict/policy.yml", str(tmp_path / "b"))
    assert nested is not None and Path(nested).read_text() == "fail_on: low\n"
    for spec in (
        f"git+file://{repo}@main",
        f"git+file://{repo}",
        f"git+file://{repo}@{pinned[:12]}",
    ):
        with pytest.raises(UsageError, match="full commit id"):
            policy.resolve(spec, str(tmp_path / "c"))
    with pytest.raises(UsageError, match="leaves the repository"):
        policy.resolve(f"git+file://{repo}@{pinned}#../../x.yml", str(tmp_path / "d"))
