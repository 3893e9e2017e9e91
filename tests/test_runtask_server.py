"""The run task server end to end, against a fake HCP Terraform on 127.0.0.1.

Three local HTTP servers stand in for the world: `tfc` (HCP Terraform's API:
the plan URL, which redirects, and the callback), `archive` (the archive
host the plan URL redirects to) and `foreign` (any other host). The app is
driven through httpx's ASGI transport with its workers running; the last
tests start `planguard.runtask.serve` as a real uvicorn process. Payloads are
HashiCorp's documented sample with its URLs pointed at the fakes; plans are
the redacted fixtures of fixtures/runtask/.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from helpers import FIXTURES
from planguard.runtask import signature
from planguard.runtask.app import create_app
from planguard.runtask.hosts import HostPolicy
from planguard.runtask.jobs import Runner
from planguard.runtask.reports import ReportStore
from planguard.runtask.settings import Settings

RUNTASK = FIXTURES / "runtask"
KEY = b"test-hmac-key-for-planguard"
PUBLIC = "http://planguard.test"
DESTRUCTIVE = "redacted-incident-env-recreated.json"
TAGS_ONLY = "redacted-tag-only.json"
DOCUMENTED = json.loads((RUNTASK / "payload-post-plan.json").read_bytes())
TOKEN = DOCUMENTED["access_token"]
CALLBACK = re.compile(r"^/api/v2/task-results/[^/]+/callback$")
_runs = itertools.count(1)


class Fakes:
    """HCP Terraform, its archive host and a foreign host, each an origin of its own."""

    def __init__(self) -> None:
        self.tfc = HTTPServer(host="127.0.0.1", threaded=True)
        self.archive = HTTPServer(host="127.0.0.1", threaded=True)
        self.foreign = HTTPServer(host="127.0.0.1", threaded=True)
        for server in self.servers:
            server.start()

    @property
    def servers(self) -> tuple[HTTPServer, ...]:
        return (self.tfc, self.archive, self.foreign)

    def origin(self, server: HTTPServer) -> str:
        return f"http://127.0.0.1:{server.port}"

    def hosts(self) -> HostPolicy:
        return HostPolicy.of([self.origin(self.tfc)], [self.origin(self.archive)])

    def stop(self) -> None:
        for server in self.servers:
            server.clear()
            server.stop()

    def task(self, **changes: Any) -> tuple[bytes, str]:
        """A documented payload aimed at the fakes (new run and result ids); the
        run's plan path."""
        n = next(_runs)
        run = f"run-test{n:04d}"
        doc = dict(DOCUMENTED)
        doc.update(
            run_id=run,
            task_result_id=f"taskrs-test{n:04d}",
            plan_json_api_url=self.tfc.url_for(f"/api/v2/plans/plan-{run}/json-output"),
            task_result_callback_url=self.tfc.url_for(f"/api/v2/task-results/{run}/callback"),
        )
        doc.update(changes)
        return json.dumps(doc).encode(), f"/api/v2/plans/plan-{run}/json-output"

    def serve_plan(self, plan_path: str, fixture: str, to: HTTPServer | None = None) -> str:
        """HCP Terraform's plan URL: 307 to a pre-signed archive URL that serves
        `fixture` (or to the same path on `to`)."""
        target = to or self.archive
        signed = f"/v1/object/{plan_path.split('/')[4]}-presigned-opaque"
        location = target.url_for(signed)
        self.tfc.expect_request(plan_path, method="GET").respond_with_response(
            WResponse(status=307, headers={"Location": location})
        )
        target.expect_request(signed, method="GET").respond_with_data(
            (RUNTASK / fixture).read_bytes(), content_type="application/json"
        )
        return location

    def accept_callbacks(self) -> None:
        """Any PATCH to a callback URL is taken (200)."""
        self.tfc.expect_request(CALLBACK, method="PATCH").respond_with_data("")

    def requests(self, server: HTTPServer, method: str | None = None) -> list[WRequest]:
        return [r for r, _ in list(server.log) if method is None or r.method == method]

    async def callbacks(self, count: int = 1, timeout: float = 90) -> list[dict[str, Any]]:
        """The first `count` PATCH bodies HCP Terraform received (waits for them)."""
        deadline = time.monotonic() + timeout
        while True:
            patches = self.requests(self.tfc, "PATCH")
            if len(patches) >= count:
                return [json.loads(r.get_data()) for r in patches[:count]]
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(patches)} of {count} callbacks after {timeout} s")
            await asyncio.sleep(0.05)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = Fakes()
    f.accept_callbacks()
    yield f
    f.stop()


def settings(fakes: Fakes, **changes: Any) -> Settings:
    base = Settings(
        key=KEY,
        hosts=fakes.hosts(),
        workers=1,
        queue_size=10,
        public_url=PUBLIC,
        callback_backoff=0.01,
        callback_attempts=3,
        fetch_timeout=20,
        review_timeout=120,
    )
    return replace(base, **changes)


@contextlib.asynccontextmanager
async def server(
    s: Settings, reports: ReportStore | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Runner]]:
    """The app with its workers running, and a client for it."""
    store = reports if reports is not None else ReportStore(s.report_ttl, s.max_reports)
    runner = Runner(s, store)
    app = create_app(s, runner)
    async with runner.running():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield client, runner


async def post(
    client: httpx.AsyncClient, raw: bytes, key: bytes | None = KEY, **headers: str
) -> httpx.Response:
    sent = {
        "Content-Type": "application/json",
        "User-Agent": "TFC/1.0 (+https://app.terraform.io; TFC)",
    }
    if key is not None:
        sent[signature.HEADER] = signature.sign(raw, key)
    sent.update(headers)
    return await client.post("/", content=raw, headers=sent)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def no_token_outside_tfc(fakes: Fakes) -> None:
    for server in (fakes.archive, fakes.foreign):
        for request in fakes.requests(server):
            assert "authorization" not in {k.lower() for k, _ in request.headers.items()}
            assert TOKEN not in request.full_path and TOKEN.encode() not in request.get_data()


# -- the review, end to end -------------------------------------------------------------


def test_destructive_plan_fails_with_headline_outcomes_and_report(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, DESTRUCTIVE)
        async with server(settings(fakes)) as (client, _):
            resp = await post(client, raw)
            assert (resp.status_code, resp.json()) == (200, {"status": "accepted"})
            [doc] = await fakes.callbacks()
            attrs = doc["data"]["attributes"]
            assert doc["data"]["type"] == "task-results"
            assert attrs["status"] == "failed"
            assert attrs["message"].startswith("planguard: blocked — critical risk (score ")
            assert "destroys 13 of 15 existing resources" in attrs["message"]
            outcomes = doc["data"]["relationships"]["outcomes"]["data"]
            assert [o["attributes"]["outcome-id"][:5] for o in outcomes] == [
                "PG101",
                "PG101",
                "PG101",
                "PG103",
                "PG106",
            ]
            assert {o["attributes"]["tags"]["Severity"][0]["level"] for o in outcomes} == {"error"}
            assert attrs["url"].startswith(f"{PUBLIC}/reports/")
            assert all(o["attributes"]["url"] == attrs["url"] for o in outcomes)

            page = await client.get(attrs["url"].removeprefix(PUBLIC))
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert page.headers["referrer-policy"] == "no-referrer"
            assert page.headers["cache-control"] == "no-store"
            assert "<h3>⛔ planguard: blocked" in page.text
            assert "hashicorp/tfr_github_0" in page.text

        [plan_get] = fakes.requests(fakes.tfc, "GET")
        assert plan_get.headers["Authorization"] == f"Bearer {TOKEN}"
        [patch] = fakes.requests(fakes.tfc, "PATCH")
        assert patch.headers["Authorization"] == f"Bearer {TOKEN}"
        assert patch.headers["Content-Type"] == "application/vnd.api+json"
        assert len(fakes.requests(fakes.archive, "GET")) == 1
        no_token_outside_tfc(fakes)

    run(scenario())


def test_tags_only_plan_passes(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task(stage="pre_apply", is_speculative=True)
        fakes.serve_plan(plan_path, TAGS_ONLY)
        async with server(settings(fakes, public_url=None)) as (client, _):
            assert (await post(client, raw)).status_code == 200
            [doc] = await fakes.callbacks()
        assert doc == {
            "data": {
                "type": "task-results",
                "attributes": {
                    "status": "passed",
                    "message": "planguard: passed — no findings (score 0/100): destroys and "
                    "replaces nothing",
                },
            }
        }

    run(scenario())


# -- refused before anything is fetched -------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "headers"),
    [
        (None, {}),  # no signature
        (b"another key", {}),
        (None, {signature.HEADER: ""}),
        (None, {signature.HEADER: "00" * 64}),
    ],
    ids=["missing", "other-key", "empty", "zeros"],
)
def test_bad_or_missing_signature_is_401_and_nothing_is_fetched(
    fakes: Fakes, key: bytes | None, headers: dict[str, str]
) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, DESTRUCTIVE)
        async with server(settings(fakes)) as (client, runner):
            resp = await post(client, raw, key, **headers)
            assert resp.status_code == 401
            assert resp.json() == {"status": "missing or invalid X-TFC-Task-Signature"}
            await asyncio.sleep(0.2)
            assert runner.queue.qsize() == 0 and runner.busy == 0
        assert fakes.requests(fakes.tfc) == [] and fakes.requests(fakes.archive) == []

    run(scenario())


def test_verification_request_is_answered_200_without_a_review(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw = (RUNTASK / "payload-verification.json").read_bytes()
        async with server(settings(fakes)) as (client, runner):
            assert (await post(client, raw, None)).status_code == 401  # signed like any request
            resp = await post(client, raw)
            assert (resp.status_code, resp.json()) == (200, {"status": "verified"})
            assert runner.queue.qsize() == 0
        assert all(fakes.requests(s) == [] for s in fakes.servers)

    run(scenario())


def test_oversized_request_is_413_unread(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw, _ = fakes.task(run_message="x" * 2000)
        async with server(settings(fakes, max_request_bytes=1024)) as (client, _):
            assert (await post(client, raw)).status_code == 413

            async def chunks() -> AsyncIterator[bytes]:  # no Content-Length
                for i in range(0, len(raw), 256):
                    yield raw[i : i + 256]

            headers = {signature.HEADER: signature.sign(raw, KEY)}
            resp = await client.post("/", content=chunks(), headers=headers)
            assert resp.status_code == 413
        assert fakes.requests(fakes.tfc) == []

    run(scenario())


def test_malformed_requests_are_400_or_422_and_nothing_is_fetched(fakes: Fakes) -> None:
    async def scenario() -> None:
        good, _ = fakes.task()
        doc = json.loads(good)
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, b"{not json")).status_code == 400
            for change in ({"payload_version": 2}, {"stage": "sometime"}, {"run_id": 5}):
                resp = await post(client, json.dumps({**doc, **change}).encode())
                assert resp.status_code == 422, change
                assert "sometime" not in resp.text
            no_plan = {k: v for k, v in doc.items() if k != "plan_json_api_url"}
            assert (await post(client, json.dumps(no_plan).encode())).status_code == 422
        assert fakes.requests(fakes.tfc) == []

    run(scenario())


def test_urls_off_the_configured_hosts_are_422_and_the_token_goes_nowhere(fakes: Fakes) -> None:
    async def scenario() -> None:
        plan_elsewhere, _ = fakes.task(
            plan_json_api_url=fakes.foreign.url_for("/api/v2/plans/plan-x/json-output")
        )
        callback_elsewhere, plan_path = fakes.task(
            task_result_callback_url=fakes.foreign.url_for("/api/v2/task-results/x/callback")
        )
        fakes.serve_plan(plan_path, TAGS_ONLY)
        archive_for_token, _ = fakes.task(
            plan_json_api_url=fakes.archive.url_for("/api/v2/plans/plan-x/json-output")
        )
        async with server(settings(fakes)) as (client, _):
            for raw in (plan_elsewhere, callback_elsewhere, archive_for_token):
                resp = await post(client, raw)
                assert resp.status_code == 422
                assert resp.json()["status"] == (
                    "plan or callback URL not on a configured HCP Terraform host"
                )
            await asyncio.sleep(0.2)
        assert all(fakes.requests(s) == [] for s in fakes.servers)

    run(scenario())


def test_redirect_to_a_foreign_host_is_not_followed(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, DESTRUCTIVE, to=fakes.foreign)
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, raw)).status_code == 200
            [doc] = await fakes.callbacks()
        assert doc["data"]["attributes"] == {
            "status": "failed",
            "message": "planguard could not review this run: the plan URL redirected outside "
            "the HCP Terraform host family; not followed",
        }
        assert fakes.requests(fakes.foreign) == [] and fakes.requests(fakes.archive) == []

    run(scenario())


def test_the_archive_may_redirect_within_the_family_but_never_gets_the_token(
    fakes: Fakes,
) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, TAGS_ONLY)
        # The archive first sends the client back to HCP Terraform's own host:
        # allowed only if listed as an archive origin; here it is not.
        hop = "/v1/object/hop"
        fakes.tfc.clear_all_handlers()
        fakes.accept_callbacks()
        fakes.tfc.expect_request(plan_path, method="GET").respond_with_response(
            WResponse(status=302, headers={"Location": fakes.archive.url_for(hop)})
        )
        signed = f"/v1/object/{plan_path.split('/')[4]}-presigned-opaque"
        fakes.archive.expect_request(hop, method="GET").respond_with_response(
            WResponse(status=307, headers={"Location": signed})  # relative: same archive origin
        )
        fakes.archive.expect_request(signed).respond_with_data((RUNTASK / TAGS_ONLY).read_bytes())
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, raw)).status_code == 200
            [doc] = await fakes.callbacks()
        assert doc["data"]["attributes"]["status"] == "passed"
        assert [r.path for r in fakes.requests(fakes.archive)] == [hop, signed]
        no_token_outside_tfc(fakes)

    run(scenario())


@pytest.mark.parametrize(
    ("respond", "message"),
    [
        ("404", "the plan URL answered HTTP 404"),
        ("204", "the plan JSON is not ready (HTTP 204)"),
        ("big", "the plan JSON is over 10 KiB"),
        ("garbage", "planguard could not review this run: "),
        ("no-location", "the plan URL answered HTTP 307 without a location"),
    ],
)
def test_fetch_and_review_failures_fail_the_run_in_one_line(
    fakes: Fakes, respond: str, message: str
) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        if respond == "big":
            fakes.serve_plan(plan_path, DESTRUCTIVE)  # 33 KB, over the bound
        handler = fakes.tfc.expect_request(plan_path, method="GET")
        if respond == "404":
            handler.respond_with_data("{}", status=404)
        elif respond == "204":
            handler.respond_with_data("", status=204)
        elif respond == "no-location":
            handler.respond_with_data("", status=307)
        elif respond == "garbage":
            handler.respond_with_data('{"plan_format_version":"1.1","resource_changes":{}}')
        s = settings(fakes, max_plan_bytes=10 * 1024 if respond == "big" else 128 << 20)
        async with server(s) as (client, _):
            assert (await post(client, raw)).status_code == 200
            [doc] = await fakes.callbacks()
        attrs = doc["data"]["attributes"]
        assert attrs["status"] == "failed"
        assert message in attrs["message"] and "\n" not in attrs["message"]
        assert "relationships" not in doc["data"]

    run(scenario())


def test_a_review_over_its_time_is_stopped_and_fails_the_run(fakes: Fakes) -> None:
    async def scenario() -> None:
        slow, slow_path = fakes.task()
        fakes.serve_plan(slow_path, DESTRUCTIVE)
        after, after_path = fakes.task()
        fakes.serve_plan(after_path, TAGS_ONLY)
        async with server(settings(fakes, review_timeout=0.001)) as (client, runner):
            assert (await post(client, slow)).status_code == 200
            [doc] = await fakes.callbacks()
            assert doc["data"]["attributes"]["message"] == (
                "planguard could not review this run: the review took longer than 0.001 s and "
                "was stopped"
            )
            # The worker gets a new review process for the next run.
            runner.settings = replace(runner.settings, review_timeout=120)
            assert (await post(client, after)).status_code == 200
            second = (await fakes.callbacks(2))[1]
            assert second["data"]["attributes"]["status"] == "passed"

    run(scenario())


def test_pre_plan_stage_fails_with_advice(fakes: Fakes) -> None:
    async def scenario() -> None:
        doc = json.loads(fakes.task()[0])
        doc["stage"] = "pre_plan"
        del doc["plan_json_api_url"]
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, json.dumps(doc).encode())).status_code == 200
            [result] = await fakes.callbacks()
        assert result["data"]["attributes"] == {
            "status": "failed",
            "message": "planguard could not review this run: planguard reviews plans: attach it "
            "at the post-plan or pre-apply stage",
        }
        assert fakes.requests(fakes.tfc, "GET") == []

    run(scenario())


# -- the queue ------------------------------------------------------------------------------


class Gate:
    """A plan URL that holds its answer until released (a busy worker)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()

    def handler(self, location: str) -> Callable[[WRequest], WResponse]:
        def respond(request: WRequest) -> WResponse:
            self.entered.set()
            self.open.wait(30)
            return WResponse(status=307, headers={"Location": location})

        return respond


async def _until(event: threading.Event, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not event.is_set():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_full_queue_answers_503_and_loses_nothing_accepted(fakes: Fakes) -> None:
    async def scenario() -> None:
        gate = Gate()
        first, first_path = fakes.task()
        location = fakes.serve_plan(first_path, TAGS_ONLY)
        fakes.tfc.clear_all_handlers()
        fakes.accept_callbacks()
        fakes.tfc.expect_request(first_path).respond_with_handler(gate.handler(location))
        second, second_path = fakes.task()
        fakes.serve_plan(second_path, TAGS_ONLY)
        third, third_path = fakes.task()
        fakes.serve_plan(third_path, TAGS_ONLY)
        async with server(settings(fakes, workers=1, queue_size=1)) as (client, _):
            assert (await post(client, first)).status_code == 200
            await _until(gate.entered)  # the worker holds the first run
            assert (await post(client, second)).status_code == 200  # queued
            busy = await post(client, third)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
            health = await client.get("/healthz")
            assert health.json() == {"status": "ok", "queued": 1, "reviewing": 1}
            gate.open.set()
            docs = await fakes.callbacks(2)
            assert {d["data"]["attributes"]["status"] for d in docs} == {"passed"}
            # HCP Terraform's retry of the refused request is taken once there is room.
            assert (await post(client, third)).status_code == 200
            await fakes.callbacks(3)
        gets = [r.path for r in fakes.requests(fakes.tfc, "GET")]
        assert gets == [first_path, second_path, third_path]

    run(scenario())


def test_a_repeated_delivery_is_queued_once(fakes: Fakes) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, TAGS_ONLY)
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, raw)).status_code == 200
            assert (await post(client, raw)).status_code == 200
            await fakes.callbacks(1)
            await asyncio.sleep(0.3)
        assert len(fakes.requests(fakes.tfc, "PATCH")) == 1

    run(scenario())


def test_stopping_fails_the_runs_it_holds(fakes: Fakes) -> None:
    async def scenario() -> None:
        gate = Gate()
        held, held_path = fakes.task()
        location = fakes.serve_plan(held_path, TAGS_ONLY)
        fakes.tfc.clear_all_handlers()
        fakes.accept_callbacks()
        fakes.tfc.expect_request(held_path).respond_with_handler(gate.handler(location))
        waiting, _ = fakes.task()
        async with server(settings(fakes)) as (client, _):
            assert (await post(client, held)).status_code == 200
            await _until(gate.entered)
            assert (await post(client, waiting)).status_code == 200
        gate.open.set()
        docs = await fakes.callbacks(2, timeout=10)
        for doc in docs:
            assert doc["data"]["attributes"] == {
                "status": "failed",
                "message": "planguard could not review this run: the planguard server stopped "
                "before this run was reviewed; start a new run to review it",
            }

    run(scenario())


# -- the callback ---------------------------------------------------------------------------


def test_callback_is_retried_with_back_off_then_logged(
    fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([500, 503, 200, 500, 500, 500])
    times: list[float] = []

    def flaky(request: WRequest) -> WResponse:
        times.append(time.monotonic())
        return WResponse("", status=next(answers))

    async def scenario() -> None:
        ok, ok_path = fakes.task()
        fakes.serve_plan(ok_path, TAGS_ONLY)
        lost, lost_path = fakes.task()
        fakes.serve_plan(lost_path, TAGS_ONLY)
        fakes.tfc.clear_all_handlers()
        fakes.serve_plan(ok_path, TAGS_ONLY)
        fakes.serve_plan(lost_path, TAGS_ONLY)
        fakes.tfc.expect_request(CALLBACK, method="PATCH").respond_with_handler(flaky)
        s = settings(fakes, callback_attempts=3, callback_backoff=0.2)
        with caplog.at_level(logging.INFO, logger="planguard.runtask"):
            async with server(s) as (client, _):
                assert (await post(client, ok)).status_code == 200
                await fakes.callbacks(3)
                assert (await post(client, lost)).status_code == 200
                await fakes.callbacks(6)
                await asyncio.sleep(0.2)

    run(scenario())
    # Back-off: 0.2 s, then 0.4 s.
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4
    events = [(r.getMessage(), getattr(r, "fields", {})) for r in caplog.records]
    names = [name for name, _ in events]
    assert names.count("callback_retry") == 4
    assert names.count("callback_sent") == 1
    [(_, failed)] = [e for e in events if e[0] == "callback_failed"]
    assert failed["attempts"] == 3 and failed["reason"] == "HTTP 500"
    assert failed["run_id"].startswith("run-test")
    for record in caplog.records:  # no token, key or URL in any line
        text = json.dumps(getattr(record, "fields", {})) + record.getMessage()
        assert TOKEN not in text and KEY.decode() not in text and "http://" not in text


def test_a_rejected_callback_is_not_retried(fakes: Fakes, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.tfc.clear_all_handlers()
        fakes.serve_plan(plan_path, TAGS_ONLY)
        fakes.tfc.expect_request(CALLBACK).respond_with_data('{"errors":[]}', status=422)
        with caplog.at_level(logging.INFO, logger="planguard.runtask"):
            async with server(settings(fakes)) as (client, _):
                assert (await post(client, raw)).status_code == 200
                await fakes.callbacks(1)
                await asyncio.sleep(0.3)

    run(scenario())
    assert len(fakes.requests(fakes.tfc, "PATCH")) == 1
    rejected = [r for r in caplog.records if r.getMessage() == "callback_rejected"]
    assert [getattr(r, "fields", {})["http_status"] for r in rejected] == [422]


# -- the report ----------------------------------------------------------------------------


def test_report_is_served_then_expires(fakes: Fakes) -> None:
    now = [0.0]

    async def scenario() -> None:
        raw, plan_path = fakes.task()
        fakes.serve_plan(plan_path, DESTRUCTIVE)
        s = settings(fakes, report_ttl=600)
        reports = ReportStore(s.report_ttl, clock=lambda: now[0])
        async with server(s, reports) as (client, _):
            assert (await post(client, raw)).status_code == 200
            [doc] = await fakes.callbacks()
            path = doc["data"]["attributes"]["url"].removeprefix(PUBLIC)
            assert (await client.get(path)).status_code == 200
            now[0] += 599
            assert (await client.get(path)).status_code == 200
            now[0] += 2
            gone = await client.get(path)
            assert gone.status_code == 404 and "limited time" in gone.text
            assert len(reports) == 0
            for guess in ("/reports/x", "/reports/" + "A" * 43, "/reports/" + "A" * 42 + "%"):
                assert (await client.get(guess)).status_code == 404

    run(scenario())


# -- a real uvicorn process -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(fakes: Fakes, tmp_path: Path, **options: Any) -> Iterator[tuple[str, Path, int]]:
    """`planguard.runtask.serve.main` in its own process on 127.0.0.1: its URL,
    its log and its process id."""
    port = _free_port()
    log = tmp_path / "server.log"
    opts = {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}", **options}
    code = (
        "import sys\n"
        "from planguard.runtask.serve import ServeOptions, main\n"
        f"sys.exit(main(ServeOptions(**{opts!r})))\n"
    )
    env = {
        **os.environ,
        "PLANGUARD_HMAC_KEY": KEY.decode(),
        "PLANGUARD_TFC_HOSTS": fakes.origin(fakes.tfc),
        "PLANGUARD_TFC_ARCHIVE_HOSTS": fakes.origin(fakes.archive),
    }
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=err, stderr=err, cwd=tmp_path
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield url, log, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _children_environ(pid: int) -> list[bytes]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append((entry / "environ").read_bytes())
    return found


def test_uvicorn_answers_100_concurrent_requests_and_loses_none(
    fakes: Fakes, tmp_path: Path
) -> None:
    tasks = [fakes.task() for _ in range(100)]
    for _, plan_path in tasks:
        fakes.serve_plan(plan_path, TAGS_ONLY)
    with uvicorn_server(fakes, tmp_path, workers=2, queue_size=100) as (url, log, _):

        async def scenario() -> list[int]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                started = time.monotonic()
                answers = await asyncio.gather(*(post(client, raw) for raw, _ in tasks))
                assert time.monotonic() - started < 30
                await fakes.callbacks(100, timeout=240)
                return [a.status_code for a in answers]

        codes = run(scenario())
        assert codes == [200] * 100
        statuses = [
            json.loads(r.get_data())["data"]["attributes"]["status"]
            for r in fakes.requests(fakes.tfc, "PATCH")
        ]
        assert statuses == ["passed"] * 100
        runs = {r.path.split("/")[4] for r in fakes.requests(fakes.tfc, "PATCH")}
        assert len(runs) == 100  # each run once
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert sum(1 for line in lines if line["event"] == "callback_sent") == 100
    assert TOKEN not in text and KEY.decode() not in text and "/reports/" not in text
    assert "presigned" not in text


def test_uvicorn_verification_health_and_review_processes_without_the_key(
    fakes: Fakes, tmp_path: Path
) -> None:
    raw, plan_path = fakes.task()
    fakes.serve_plan(plan_path, DESTRUCTIVE)
    verification = (RUNTASK / "payload-verification.json").read_bytes()
    with uvicorn_server(fakes, tmp_path, workers=1) as (url, log, pid):
        sent = {signature.HEADER: signature.sign(verification, KEY)}
        assert httpx.post(url, content=verification, headers=sent).status_code == 200
        assert httpx.post(url, content=verification).status_code == 401
        sent = {signature.HEADER: signature.sign(raw, KEY)}
        assert httpx.post(url, content=raw, headers=sent).status_code == 200
        [doc] = run(fakes.callbacks())
        report = httpx.get(doc["data"]["attributes"]["url"])
        assert report.status_code == 200 and "planguard: blocked" in report.text
        assert "server" not in {k.lower() for k in report.headers}
        if Path("/proc/self/environ").exists():
            environs = _children_environ(pid)
            assert len(environs) == 1  # one worker, one review process
            # (/proc/PID/environ is the environment at exec: the server's own
            # still shows the key; its review processes never had it.)
            assert b"PLANGUARD_HMAC_KEY" not in environs[0] and KEY not in environs[0]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {line.get("logger") for line in lines} == {None, "uvicorn.error"}
    events = [line["event"] for line in lines if "logger" not in line]
    assert events[:2] == ["settings", "server_started"]
    assert "verification_request" in events and events[-1] == "server_stopped"


def test_the_server_collects_its_cycles_though_the_command_line_paused_the_collector() -> None:
    """`planguard serve` runs inside the pause every command starts with; a
    server living for weeks must collect its cyclic garbage all the same."""
    import gc

    from planguard.errors import UsageError
    from planguard.runtask.serve import ServeOptions, main

    gc.disable()
    try:
        with pytest.raises(UsageError):
            main(ServeOptions(workers=0))  # refused after the collector is back on
        assert gc.isenabled()
    finally:
        gc.enable()
