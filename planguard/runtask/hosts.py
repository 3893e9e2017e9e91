"""Which origins may see the run's access token, and where the plan's redirect may go.

The access token in a run task request can read the run's plan: it is sent
only to the HCP Terraform / Terraform Enterprise origins the server is
configured with (`PLANGUARD_TFC_HOSTS`, default the public HCP Terraform
host), and only for the two URLs of the request, the plan and the callback.

The plan URL answers with a temporary redirect to a pre-signed URL on the
archive service (`GET /plans/:id/json-output`: "a temporary authenticated URL
... that should be followed", valid for one minute:
https://developer.hashicorp.com/terraform/cloud-docs/api-docs/plans). That URL
carries its own credential, so the redirect is followed without the token,
and only to the archive origins of the host family: `archivist.terraform.io`
for `app.terraform.io`; for any other host (Terraform Enterprise serves its
archive under its own host name) the host itself, unless
`PLANGUARD_TFC_ARCHIVE_HOSTS` says otherwise.

An origin is written `host`, `host:port` or `scheme://host[:port]` (https
when no scheme is given; http only when written out, for a local test
server).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_TFC_HOSTS = ("app.terraform.io",)
# The archive host of each public HCP Terraform host, as its API redirects to it.
KNOWN_ARCHIVES = {"app.terraform.io": ("archivist.terraform.io",)}

TFC_HOSTS_VAR = "PLANGUARD_TFC_HOSTS"
ARCHIVE_HOSTS_VAR = "PLANGUARD_TFC_ARCHIVE_HOSTS"

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_DEFAULT_PORT = {"https": 443, "http": 80}


class HostError(ValueError):
    """A host setting that is not an origin."""


@dataclass(frozen=True, order=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = _DEFAULT_PORT[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")


def parse_origin(text: str) -> Origin:
    """An origin as a setting writes it (see the module docstring)."""
    given = text.strip()
    spec = given if "://" in given else f"https://{given}"
    try:
        parts = urllib.parse.urlsplit(spec)
        port = parts.port
    except ValueError:
        raise HostError(f"not a host name or origin: {given!r}") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in _DEFAULT_PORT or not _HOST.match(host):
        raise HostError(f"not a host name or origin: {given!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise HostError(f"a host takes no path, query or user: {given!r}")
    return Origin(parts.scheme, host, port or _DEFAULT_PORT[parts.scheme])


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL; None for anything else (relative,
    other schemes, user info, a host that is not a plain DNS name or IPv4)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in _DEFAULT_PORT or not _HOST.match(host) or parts.username is not None:
        return None
    return Origin(parts.scheme, host, port or _DEFAULT_PORT[parts.scheme])


@dataclass(frozen=True)
class HostPolicy:
    """The origins that may see the token, and the archive origins of their family."""

    tfc: frozenset[Origin]
    archives: frozenset[Origin]

    @classmethod
    def of(cls, tfc: Iterable[str], archives: Iterable[str] | None = None) -> HostPolicy:
        origins = frozenset(parse_origin(h) for h in tfc)
        if not origins:
            raise HostError("no HCP Terraform host given")
        if archives is None:
            found: set[Origin] = set()
            for o in origins:
                known = KNOWN_ARCHIVES.get(o.host)
                found |= {parse_origin(a) for a in known} if known else {o}
            return cls(origins, frozenset(found))
        return cls(origins, frozenset(parse_origin(a) for a in archives))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HostPolicy:
        """From PLANGUARD_TFC_HOSTS and PLANGUARD_TFC_ARCHIVE_HOSTS (comma- or
        space-separated); unset, the public HCP Terraform host and its archive."""
        tfc = _split(env.get(TFC_HOSTS_VAR)) or list(DEFAULT_TFC_HOSTS)
        archives = _split(env.get(ARCHIVE_HOSTS_VAR))
        for name, values in ((TFC_HOSTS_VAR, tfc), (ARCHIVE_HOSTS_VAR, archives)):
            for value in values:
                try:
                    parse_origin(value)
                except HostError as exc:
                    raise HostError(f"{name}: {exc}") from None
        return cls.of(tfc, archives or None)

    def may_see_token(self, url: str) -> bool:
        """Whether `url` lies on an HCP Terraform origin (the token may go there)."""
        return origin_of(url) in self.tfc

    def may_redirect_to(self, url: str) -> bool:
        """Whether the plan's redirect may be followed to `url` (without the token)."""
        return origin_of(url) in self.archives

    def describe(self) -> str:
        tfc = ", ".join(str(o) for o in sorted(self.tfc))
        archives = ", ".join(str(o) for o in sorted(self.archives))
        return f"HCP Terraform: {tfc}; plan archive: {archives}"


def _split(value: str | None) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value or "") if part]
