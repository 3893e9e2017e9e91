"""The ASGI app: the run task intake, `/healthz` and the report pages.

`POST /` takes HCP Terraform's run task request, in this order, and stops at
the first answer:

1. 413 when the body is over `max_request_bytes` (read no further);
2. 401 unless `X-TFC-Task-Signature` is the body's HMAC-SHA512 under the key
   (nothing in the body is read before);
3. 200 for the verification request (placeholder token): nothing else happens;
4. 400 when the body is not JSON, 422 when it is not a run task request or
   its plan or callback URL is not on a configured HCP Terraform host (the
   token would have to go elsewhere);
5. 503 (Retry-After) when the queue is full, so HCP Terraform tries again;
6. 200: queued; the review and the callback follow (planguard.runtask.jobs).

`GET /reports/{token}` serves a kept report (404 once it has expired), with
headers that keep the page from running or loading anything and keep its
address out of Referer headers and caches.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from planguard.runtask import logs, payload, signature
from planguard.runtask.jobs import Runner
from planguard.runtask.reports import ReportStore
from planguard.runtask.settings import Settings

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
REPORT_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}
RETRY_AFTER = "30"


class _TooLarge(Exception):
    pass


def _answer(code: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": text}, status_code=code, headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: Settings, runner: Runner | None = None) -> Starlette:
    """The app; it starts its workers (and review processes) on startup."""
    if runner is None:
        runner = Runner(settings, ReportStore(settings.report_ttl, settings.max_reports))
    reports = runner.reports

    async def intake(request: Request) -> Response:
        try:
            body = await _body(request, settings.max_request_bytes)
        except _TooLarge:
            logs.warning("request_refused", http_status=413, reason="too large")
            return _answer(413, "request body too large")
        if not signature.verify(body, request.headers.get(signature.HEADER), settings.key):
            logs.warning("request_refused", http_status=401, reason="bad signature")
            return _answer(401, "missing or invalid X-TFC-Task-Signature")
        if payload.is_verification(body):
            logs.event("verification_request")
            return _answer(200, "verified")
        try:
            task = payload.parse(body)
        except payload.PayloadError as exc:
            code = 400 if str(exc) == "not JSON" else 422
            logs.warning("request_refused", http_status=code, reason=str(exc))
            return _answer(code, str(exc))
        urls = [task.task_result_callback_url, task.plan_json_api_url]
        if not all(settings.hosts.may_see_token(u) for u in urls if u is not None):
            why = "plan or callback URL not on a configured HCP Terraform host"
            logs.warning("request_refused", http_status=422, reason=why, run_id=task.run_id)
            return _answer(422, why)
        submitted = runner.submit(task)
        fields = {"run_id": task.run_id, "task_result_id": task.task_result_id, "stage": task.stage}
        fields["workspace"] = task.workspace
        if submitted == "full":
            logs.warning("request_refused", http_status=503, reason="queue full", **fields)
            return _answer(503, "busy: try again", {"Retry-After": RETRY_AFTER})
        logs.event(
            "task_received",
            queued=submitted == "queued",
            enforcement=task.task_result_enforcement_level,
            **fields,
        )
        return _answer(200, "accepted")

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "queued": runner.queue.qsize(), "reviewing": runner.busy}
        )

    async def report(request: Request) -> Response:
        token = request.path_params["token"]
        page = reports.get(token) if _TOKEN.match(token) else None
        if page is None:
            return Response(
                "no such report (reports are kept for a limited time)\n",
                404,
                media_type="text/plain",
            )
        return Response(page, media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with runner.running():
            yield

    app = Starlette(
        routes=[
            Route("/", intake, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/reports/{token}", report, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.runner = runner
    return app
