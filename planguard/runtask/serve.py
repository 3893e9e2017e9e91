"""`planguard serve`: the run task server under uvicorn.

The command's options arrive as a `ServeOptions`; everything they name is
checked before the server listens (the HMAC key, the hosts, the policy), and
a problem is a UsageError or ConfigError for planguard.cli's one error
boundary. The HMAC key is removed from the environment once read, so the
review processes never inherit it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import MutableMapping
from dataclasses import dataclass

from planguard.errors import UsageError
from planguard.speed import collector

DEFAULT_KEY_ENV = "PLANGUARD_HMAC_KEY"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    hmac_key_env: str = DEFAULT_KEY_ENV
    hmac_key_file: str | None = None
    policy: str | None = None
    workers: int = 2
    queue_size: int = 100
    report_ttl: str = "72h"
    public_url: str | None = None


def duration(text: str, option: str = "--report-ttl") -> float:
    """`90s`, `30m`, `72h`, `7d` or plain seconds."""
    m = _DURATION.match(text.strip().lower())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"{option}: give a duration such as 30m, 72h or 7d")
    return float(m.group(1)) * _UNIT[m.group(2)]


def public_url(text: str | None) -> str | None:
    if not text:
        return None
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(
            "--public-url: give the server's base URL, e.g. https://planguard.example.com"
        )
    return text.strip().rstrip("/")


def key(options: ServeOptions, env: MutableMapping[str, str] | None = None) -> bytes:
    """The HMAC key: from --hmac-key-file, else the variable --hmac-key-env names
    (which is then removed from the environment)."""
    environ: MutableMapping[str, str] = os.environ if env is None else env
    if options.hmac_key_file:
        try:
            with open(options.hmac_key_file, "rb") as f:
                data = f.read(4096 + 1)
        except OSError as exc:
            raise UsageError(f"--hmac-key-file: cannot read: {exc.strerror or exc}") from None
        value = data.rstrip(b"\r\n")
        if len(data) > 4096:
            raise UsageError("--hmac-key-file: over 4 KiB: not an HMAC key")
    else:
        value = environ.pop(options.hmac_key_env, "").encode()
    if not value:
        where = options.hmac_key_file or f"${options.hmac_key_env}"
        raise UsageError(
            f"no HMAC key ({where} is empty or unset): the run task's HMAC key is required, "
            "unsigned requests are never accepted"
        )
    return value


def main(options: ServeOptions) -> int:
    """Check the settings, then serve until stopped (SIGINT/SIGTERM)."""
    collector.on()  # the command line paused it, as for one-shot commands
    try:
        import uvicorn

        from planguard.runtask.app import create_app
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"planguard serve needs the server extra ({exc.name} is not installed): "
            "pip install 'planguard-iac[server]'"
        ) from None
    from planguard.runtask import logs, policy
    from planguard.runtask.hosts import HostError, HostPolicy
    from planguard.runtask.settings import Settings

    if not 1 <= options.workers <= 64 or not 1 <= options.queue_size <= 100_000:
        raise UsageError("--workers: 1 to 64; --queue-size: 1 to 100000")
    secret = key(options)
    try:
        hosts = HostPolicy.from_env(os.environ)
    except HostError as exc:
        raise UsageError(str(exc)) from None
    state = tempfile.mkdtemp(prefix="planguard-serve-")
    try:
        settings = Settings(
            key=secret,
            hosts=hosts,
            policy=policy.resolve(options.policy, state),
            workers=options.workers,
            queue_size=options.queue_size,
            report_ttl=duration(options.report_ttl),
            public_url=public_url(options.public_url),
        )
        logs.setup()
        logs.event(
            "settings",
            hosts=hosts.describe(),
            policy=options.policy or "built-in defaults",
            public_url=settings.public_url,
            report_ttl_s=settings.report_ttl,
        )
        config = uvicorn.Config(
            create_app(settings),
            host=options.host,
            port=options.port,
            log_config=None,  # logs.setup: JSON lines
            access_log=False,  # an access line would hold a report's token
            server_header=False,
            timeout_graceful_shutdown=30,
        )
        uvicorn.Server(config).run()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return 0
