"""The run task server under load, as a real uvicorn process on 127.0.0.1.

    python benchmarks/runtask.py [--requests N] [--concurrency C] [--runs R] [--resources 1k]

Starts `planguard.runtask.serve` (2 workers) against a fake HCP Terraform
(a threaded http.server on 127.0.0.1 that serves the plan URL's redirect, the
archive's plan and the callback) and prints:

- requests answered per second for the 200 response: N signed verification
  requests (signature, parse, answer), then N signed run task requests that
  are queued (their plan URL answers 404, so each run fails fast and the
  workers stay out of the way), C at a time;
- the time from a run task request to its callback for a redacted plan of
  `--resources` resources (benchmarks/gen_plan.py's estate, redacted as
  fixtures/runtask/derive.py does), R runs one after another: median, min, max.

Needs the server extra (`pip install '.[server]'`). The numbers depend on
the machine and its load (client and server share it); the first line, the
bare `/healthz` endpoint one request at a time, is there for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures" / "runtask"))
from derive import redact  # noqa: E402

from planguard.runtask import signature  # noqa: E402

KEY = b"benchmark-hmac-key"
PAYLOAD = json.loads((ROOT / "fixtures" / "runtask" / "payload-post-plan.json").read_bytes())


class FakeTfc:
    """HCP Terraform's plan URL (307 to the archive path), the archive (the plan)
    and the callback (records when each run's PATCH arrived)."""

    def __init__(self, plan: bytes) -> None:
        self.plan = plan
        self.arrived: dict[str, float] = {}
        self.event = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/api/v2/plans/missing"):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path.startswith("/api/v2/plans/"):
                    self.send_response(307)
                    self.send_header("Location", "/_archivist/v1/object/presigned")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(fake.plan)))
                    self.end_headers()
                    self.wfile.write(fake.plan)

            def do_PATCH(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                run = self.path.split("/")[4]
                with fake.event:
                    fake.arrived[run] = time.perf_counter()
                    fake.event.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, run: str, timeout: float) -> float:
        with self.event:
            if not self.event.wait_for(lambda: run in self.arrived, timeout):
                raise SystemExit(f"no callback for {run} in {timeout} s")
            return self.arrived[run]

    def wait_count(self, count: int, timeout: float) -> None:
        with self.event:
            if not self.event.wait_for(lambda: len(self.arrived) >= count, timeout):
                raise SystemExit(f"{len(self.arrived)} of {count} callbacks in {timeout} s")


def task(origin: str, run: str, plan: str = "plan") -> bytes:
    doc = dict(PAYLOAD)
    doc.update(
        run_id=run,
        task_result_id=f"taskrs-{run}",
        plan_json_api_url=f"{origin}/api/v2/plans/{plan}-{run}/json-output",
        task_result_callback_url=f"{origin}/api/v2/task-results/{run}/callback",
    )
    return json.dumps(doc).encode()


def signed(raw: bytes) -> dict[str, str]:
    return {signature.HEADER: signature.sign(raw, KEY), "Content-Type": "application/json"}


@contextlib.contextmanager
def server(origin: str, queue: int) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = {"port": port, "workers": 2, "queue_size": queue}
    code = (
        "import sys\nfrom planguard.runtask.serve import ServeOptions, main\n"
        f"sys.exit(main(ServeOptions(**{opts!r})))\n"
    )
    env = {
        **os.environ,
        "PLANGUARD_HMAC_KEY": KEY.decode(),
        "PLANGUARD_TFC_HOSTS": origin,
        "PLANGUARD_TFC_ARCHIVE_HOSTS": origin,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        time.sleep(2)  # the review processes import planguard
        yield url
    finally:
        proc.terminate()
        proc.wait(60)


def blast(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[int]]:
    """Requests per second and the status codes: `concurrency` threads, each with
    one keep-alive connection (http.client: httpx's async client is itself the
    bottleneck here, at a tenth of this rate)."""
    host, port = url.removeprefix("http://").split(":")
    local = threading.local()

    def one(raw: bytes) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("POST", "/", body=raw, headers=signed(raw))
        resp = conn.getresponse()
        resp.read()
        return resp.status

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(one, bodies))
    return len(bodies) / (time.perf_counter() - start), codes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--resources", default="1k")
    args = ap.parse_args()

    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    full = out / f"plan-{args.resources}.json"
    if not full.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "gen_plan.py"),
                "-n",
                args.resources,
                "-o",
                str(full),
                "-q",
            ],
            check=True,
        )
    plan = json.dumps(redact(json.loads(full.read_bytes())), separators=(",", ":")).encode()
    changes = len(json.loads(plan)["resource_changes"])
    fake = FakeTfc(plan)

    with server(fake.origin, queue=args.requests + 10) as url:
        # For comparison: the bare /healthz endpoint, one request at a time.
        with httpx.Client(base_url=url) as client:
            start = time.perf_counter()
            for _ in range(200):
                client.get("/healthz")
            rps_floor = 200 / (time.perf_counter() - start)
        verification = json.dumps({**PAYLOAD, "access_token": "test-token"}).encode()
        rps_verify, codes = blast(url, [verification] * args.requests, args.concurrency)
        assert codes == [200] * args.requests, set(codes)
        tasks = [task(fake.origin, f"run-q{i}", "missing") for i in range(args.requests)]
        rps_queued, codes = blast(url, tasks, args.concurrency)
        assert codes == [200] * args.requests, set(codes)
        fake.wait_count(args.requests, 600)

        times = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(args.runs):
                run = f"run-plan{i}"
                raw = task(fake.origin, run)
                start = time.perf_counter()
                assert client.post("/", content=raw, headers=signed(raw)).status_code == 200
                times.append(fake.wait(run, 600) - start)

    print(f"for comparison: {rps_floor:,.0f}/s GET /healthz, one at a time")
    print(
        f"200 answers: {rps_verify:,.0f}/s verification requests, "
        f"{rps_queued:,.0f}/s run task requests queued "
        f"({args.requests} each, {args.concurrency} at a time)"
    )
    print(
        f"request to callback, redacted plan of {changes:,} resources ({len(plan) / 1e6:.1f} MB): "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s "
        f"({args.runs} runs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
