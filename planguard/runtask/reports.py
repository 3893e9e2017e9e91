"""Rendered reports, kept for a while at an unguessable path.

A report is reachable only by its token (32 random bytes, URL-safe: 256 bits
an outsider would have to guess); there is no listing. It is deleted once its
time is up, and the oldest go first when more than `limit` are kept. Reports
live in memory: a restart forgets them (the run's outcomes in HCP Terraform
stay).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    html: bytes
    expires: float


class ReportStore:
    def __init__(
        self, ttl: float, limit: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        # Insertion order is expiry order: every report gets the same TTL.
        self._reports: OrderedDict[str, Report] = OrderedDict()

    def put(self, html: bytes) -> str:
        """Keep `html`; its token."""
        self.purge()
        token = secrets.token_urlsafe(32)
        self._reports[token] = Report(html, self._clock() + self.ttl)
        while len(self._reports) > self.limit:
            self._reports.popitem(last=False)
        return token

    def get(self, token: str) -> bytes | None:
        self.purge()
        report = self._reports.get(token)
        return report.html if report is not None else None

    def purge(self) -> int:
        """Delete the reports whose time is up; how many."""
        now = self._clock()
        gone = 0
        while self._reports:
            token, report = next(iter(self._reports.items()))
            if report.expires > now:
                break
            del self._reports[token]
            gone += 1
        return gone

    def __len__(self) -> int:
        return len(self._reports)
