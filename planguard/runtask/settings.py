"""The server's settings: one frozen value, built by `planguard serve` (or a test)."""

from __future__ import annotations

from dataclasses import dataclass, field

from planguard.runtask.hosts import HostPolicy

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    # The HMAC key entered in HCP Terraform for this run task (never shown).
    key: bytes = field(repr=False)
    hosts: HostPolicy
    # The policy file the reviews use (a git policy is checked out by then);
    # None: planguard's built-in defaults. Never the workspace's own.
    policy: str | None = None
    workers: int = 2
    queue_size: int = 100
    # How long a rendered report stays available, in seconds.
    report_ttl: float = 3 * 24 * 3600.0
    max_reports: int = 1000
    # Where HCP Terraform users reach this server (the report links); None: no links.
    public_url: str | None = None
    # A run task request is a few KB; anything near this is not one.
    max_request_bytes: int = 1 * MIB
    max_plan_bytes: int = 128 * MIB
    fetch_timeout: float = 60.0
    review_timeout: float = 300.0
    # The callback: attempts in all, the first back-off doubling after each.
    callback_attempts: int = 5
    callback_backoff: float = 1.0
    # A worker process is replaced after this many reviews (bounds its memory).
    reviews_per_process: int = 200

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("the HMAC key is empty")
        if self.workers < 1 or self.queue_size < 1:
            raise ValueError("workers and queue size must be at least 1")
        if self.report_ttl <= 0:
            raise ValueError("the report TTL must be positive")
