"""The PATCH of the task result to HCP Terraform, retried with back-off.

`PATCH task_result_callback_url` with the run's token and a JSON:API body
(`Content-Type: application/vnd.api+json`). A network error, a timeout, 408,
425, 429 or a 5xx is tried again after `backoff`, 2×, 4×… seconds, up to
`attempts` tries in all; any other answer is final (401: the token expired;
422: HCP Terraform refused the body). Every outcome is logged, never the
token or the URL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec

from planguard.runtask import logs
from planguard.runtask.hosts import HostPolicy

RETRY = {408, 425, 429}
JSON_API = "application/vnd.api+json"


async def send(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    document: dict[str, Any],
    hosts: HostPolicy,
    *,
    attempts: int,
    backoff: float,
    ids: dict[str, str],
) -> bool:
    """PATCH `document` to `url`; whether HCP Terraform took it."""
    if not hosts.may_see_token(url):
        logs.error("callback_refused", reason="callback URL not on a configured host", **ids)
        return False
    body = msgspec.json.encode(document)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON_API, "Accept": JSON_API}
    status = document["data"]["attributes"]["status"]
    for attempt in range(1, attempts + 1):
        try:
            resp = await client.patch(url, content=body, headers=headers, follow_redirects=False)
        except httpx.HTTPError as exc:
            why = type(exc).__name__
        else:
            code = resp.status_code
            if 200 <= code < 300:
                logs.event("callback_sent", status=status, attempt=attempt, **ids)
                return True
            if code not in RETRY and code < 500:
                logs.error("callback_rejected", http_status=code, **ids)
                return False
            why = f"HTTP {code}"
        if attempt < attempts:
            delay = backoff * 2 ** (attempt - 1)
            logs.warning(
                "callback_retry",
                attempt=attempt,
                reason=why,
                retry_in_s=delay,
                **ids,
            )
            await asyncio.sleep(delay)
        else:
            logs.error("callback_failed", attempts=attempts, reason=why, **ids)
    return False
