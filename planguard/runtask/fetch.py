"""Fetching the run's plan JSON: the token to HCP Terraform only, the redirect
followed only within the host family, the size bounded.

`GET plan_json_api_url` with the run's token answers with a temporary
redirect to a pre-signed URL on the archive host (planguard.runtask.hosts).
Redirects are followed by hand, never by the HTTP client: each target must be
an archive origin, and the token is never sent after the first request (the
pre-signed URL carries its own credential). 204 means the plan is not ready.
The body is streamed to a file and the fetch stops as soon as it passes the
size bound.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from planguard.runtask.hosts import HostPolicy

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 3
MIB = 1024 * 1024


class FetchError(Exception):
    """The plan could not be fetched: one line, naming no URL (a pre-signed URL
    is a credential) and quoting nothing from the response."""


async def plan(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    hosts: HostPolicy,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float,
) -> int:
    """Write the plan at `url` to `dest`; its size in bytes."""
    if not hosts.may_see_token(url):
        raise FetchError("the plan URL is not on a configured HCP Terraform host")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                target = await _get(client, url, headers, hosts, dest, max_bytes)
                if target is None:
                    return dest.stat().st_size
                url = target
                headers = {"Accept": "application/json"}  # never the token after a redirect
    except TimeoutError:
        raise FetchError(f"fetching the plan took longer than {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"fetching the plan failed ({type(exc).__name__})") from None
    raise FetchError(f"the plan URL redirected more than {MAX_REDIRECTS} times")


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    hosts: HostPolicy,
    dest: Path,
    max_bytes: int,
) -> str | None:
    """One request: the redirect target to follow, or None once `dest` holds the plan."""
    async with client.stream("GET", url, headers=headers, follow_redirects=False) as resp:
        code = resp.status_code
        if code in REDIRECTS:
            location = resp.headers.get("location")
            if not location:
                raise FetchError(f"the plan URL answered HTTP {code} without a location")
            target = str(httpx.URL(url).join(location))
            if not hosts.may_redirect_to(target):
                raise FetchError(
                    "the plan URL redirected outside the HCP Terraform host family; not followed"
                )
            return target
        if code == 204:
            raise FetchError("the plan JSON is not ready (HTTP 204)")
        if code != 200:
            raise FetchError(f"the plan URL answered HTTP {code}")
        limit = f"the plan JSON is over {_size(max_bytes)}"
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise FetchError(limit)
        size = 0
        with dest.open("wb") as out:
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(limit)
                out.write(chunk)
    return None


def _size(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n / 1024:g} KiB"
