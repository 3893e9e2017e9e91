"""The work behind the 200: a bounded queue and its workers.

The intake puts each accepted request on a queue of `queue_size` and answers
at once; when the queue is full it answers 503, and HCP Terraform tries
again. `workers` tasks take jobs off the queue, each with its own review
process (planguard.runtask.reviewer), and for each run: fetch the plan,
review it, keep the rendered report, PATCH the result. Whatever goes wrong
on the way fails the run with a one-line message: a run is never passed
without a review.

A request HCP Terraform delivers twice (same task result id) is queued once.
When the server stops, runs still waiting, and runs under review, are failed
with a message asking for a new run, so that no run waits for a result that
will not come.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import re
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from planguard.runtask import callback, fetch, html, logs, results
from planguard.runtask.child import Job as ReviewJob
from planguard.runtask.payload import PLAN_STAGES, TaskRequest
from planguard.runtask.reports import ReportStore
from planguard.runtask.reviewer import ReviewError, ReviewProcess
from planguard.runtask.settings import Settings

SEEN = 10_000  # task result ids remembered, to queue a repeated delivery once
STOPPED = "the planguard server stopped before this run was reviewed; start a new run to review it"
Submitted = Literal["queued", "repeated", "full"]


@dataclass
class Job:
    request: TaskRequest
    received: float = field(default_factory=time.monotonic)


def new_client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client of the plan fetches and the callbacks: redirects by hand,
    no cookies kept (nothing one host sets may reach another)."""
    no_cookies = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(min(30.0, settings.fetch_timeout)),
        cookies=http.cookiejar.CookieJar(policy=no_cookies),
        headers={"User-Agent": "planguard-runtask"},
    )


class Runner:
    def __init__(
        self,
        settings: Settings,
        reports: ReportStore,
        client: Callable[[Settings], httpx.AsyncClient] = new_client,
    ) -> None:
        self.settings = settings
        self.reports = reports
        self._new_client = client
        self.queue: asyncio.Queue[Job] = asyncio.Queue(settings.queue_size)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self.busy = 0

    # -- intake ------------------------------------------------------------------

    def submit(self, request: TaskRequest) -> Submitted:
        """Queue `request` (never waits): queued, a repeat already queued, or full."""
        if request.task_result_id in self._seen:
            return "repeated"
        try:
            self.queue.put_nowait(Job(request))
        except asyncio.QueueFull:
            return "full"
        self._seen[request.task_result_id] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        return "queued"

    # -- life --------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Runner]:
        self._client = self._new_client(self.settings)
        processes = [
            ReviewProcess(self.settings.reviews_per_process) for _ in range(self.settings.workers)
        ]
        await asyncio.gather(*(p.start() for p in processes))
        self._tasks = [asyncio.create_task(self._work(p)) for p in processes]
        self._tasks.append(asyncio.create_task(self._purge()))
        logs.event(
            "server_started", workers=self.settings.workers, queue_size=self.settings.queue_size
        )
        try:
            yield self
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._fail_waiting()
            await asyncio.gather(*(p.close() for p in processes))
            await self._client.aclose()
            logs.event("server_stopped")

    async def _purge(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, self.settings.report_ttl))
            self.reports.purge()

    async def _fail_waiting(self) -> None:
        jobs = []
        while not self.queue.empty():
            jobs.append(self.queue.get_nowait())
        if jobs:
            await asyncio.gather(
                *(self._final(job, results.failure(STOPPED), attempts=1) for job in jobs)
            )

    # -- one run -----------------------------------------------------------------

    async def _work(self, reviewer: ReviewProcess) -> None:
        while True:
            job = await self.queue.get()
            self.busy += 1
            try:
                await self._run(job, reviewer)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self._final(job, results.failure(STOPPED), attempts=1), 5
                    )
                raise
            except Exception as exc:  # never lose a run: fail it
                kind = type(exc).__name__
                logs.error("internal_error", error=kind, **_ids(job.request))
                await self._final(job, results.failure("internal error in the planguard server"))
            finally:
                self.busy -= 1
                self.queue.task_done()

    async def _run(self, job: Job, reviewer: ReviewProcess) -> None:
        request = job.request
        if request.stage not in PLAN_STAGES or request.plan_json_api_url is None:
            why = "planguard reviews plans: attach it at the post-plan or pre-apply stage"
            await self._final(job, results.failure(why))
            return
        workdir = Path(tempfile.mkdtemp(prefix="planguard-run-"))
        try:
            document = await self._review(job, reviewer, workdir, request.plan_json_api_url)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        await self._final(job, document)

    async def _review(
        self, job: Job, reviewer: ReviewProcess, workdir: Path, plan_url: str
    ) -> dict[str, Any]:
        request, s = job.request, self.settings
        name = re.sub(r"[^A-Za-z0-9_-]", "_", request.run_id)[:100] + ".json"
        try:
            size = await fetch.plan(
                self._http(),
                plan_url,
                request.access_token,
                s.hosts,
                workdir / name,
                max_bytes=s.max_plan_bytes,
                timeout=s.fetch_timeout,
            )
            logs.event("plan_fetched", bytes=size, **_ids(request))
            result = await reviewer.review(
                ReviewJob(str(workdir), name, s.policy, s.max_plan_bytes), s.review_timeout
            )
        except (fetch.FetchError, ReviewError) as exc:
            logs.warning("review_failed", reason=str(exc), **_ids(request))
            return results.failure(str(exc))
        logs.event(
            "reviewed",
            status=result.status,
            findings=result.findings,
            error=result.error,
            **_ids(request),
        )
        if result.error is not None:
            return results.document("failed", result.message)
        return results.document(
            result.status, result.message, self._keep(request, result.markdown), result.outcomes
        )

    def _keep(self, request: TaskRequest, markdown: str) -> str | None:
        """Keep the rendered report; its URL (None when no public URL is set)."""
        if not self.settings.public_url:
            return None
        title = f"{request.workspace} · {request.run_id}"
        token = self.reports.put(html.page(markdown, title))
        return f"{self.settings.public_url}/reports/{token}"

    async def _final(self, job: Job, document: dict[str, Any], attempts: int | None = None) -> None:
        request, s = job.request, self.settings
        await callback.send(
            self._http(),
            request.task_result_callback_url,
            request.access_token,
            document,
            s.hosts,
            attempts=attempts or s.callback_attempts,
            backoff=s.callback_backoff,
            ids={**_ids(request), "seconds": f"{time.monotonic() - job.received:.3f}"},
        )

    def _http(self) -> httpx.AsyncClient:
        assert self._client is not None, "the runner is not running"
        return self._client


def _ids(request: TaskRequest) -> dict[str, str]:
    return {
        "run_id": request.run_id,
        "task_result_id": request.task_result_id,
        "workspace": request.workspace,
        "stage": request.stage,
    }
