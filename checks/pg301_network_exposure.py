"""PG301: ingress opened to the whole internet on ports other than web ports.

Exposure is computed on both sides of each change; only ports that were not
already open to the internet before fire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from planguard.checks._common import introducing, masked, side
from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Change

META = CheckMeta(
    id="PG301",
    slug="network-exposure",
    title="Network exposure to the internet",
    severity=Severity.HIGH,
    rationale=(
        "Ingress from 0.0.0.0/0 or ::/0 lets anyone on the internet reach the port. Outside "
        "of web traffic on 80/443, that exposes administration (SSH, RDP), databases and "
        "internal services to scanning and brute force within minutes."
    ),
    remediation=(
        "Restrict the source to known ranges (office, VPN, load balancer security group), or "
        "put the service behind a load balancer, a bastion or a private endpoint (SSM Session "
        "Manager, IAP)."
    ),
    options={
        "allowed_ports": [80, 443],
        # Any new exposure that covers one of these (or all ports) is critical.
        "critical_ports": [22, 3389],
    },
)

_ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any", "0.0.0.0"})
_ALL = (0, 65535)
_PORTED = frozenset({"tcp", "udp", "6", "17"})

# An exposure: (protocol, first port, last port, source); protocol "all" covers
# every protocol, and the source is 0.0.0.0/0, ::/0 or a provider's "anywhere".
Exposure = tuple[str, int, int, str]


def _list(value: Any) -> list[Any]:
    if value is None or masked(value):
        return []
    return value if isinstance(value, list) else [value]


def _open(sources: list[Any]) -> list[str]:
    """The sources that mean "anywhere", as written."""
    return sorted({str(s).strip() for s in sources if str(s).strip().lower() in _ANYWHERE})


def _proto(value: Any) -> str:
    text = str(value if value is not None else "-1").lower()
    return "all" if text in ("-1", "all", "*") else text


def _aws_rule(rule: dict[str, Any], cidr_keys: tuple[str, ...], proto_key: str) -> list[Exposure]:
    sources = _open([s for key in cidr_keys for s in _list(rule.get(key))])
    proto = _proto(rule.get(proto_key))
    lo, hi = rule.get("from_port", rule.get("FromPort")), rule.get("to_port", rule.get("ToPort"))
    ranged = isinstance(lo, int) and isinstance(hi, int) and lo >= 0 and hi >= 0
    # Port 0-0 on a protocol without ports (icmp) means every port of it.
    if proto == "all" or not ranged or ((lo, hi) == (0, 0) and proto not in _PORTED):
        lo, hi = _ALL
    return [(proto, min(lo, hi), max(lo, hi), src) for src in sources]


def _ranges(specs: list[Any]) -> list[tuple[int, int]]:
    out = []
    for spec in specs:
        text = str(spec).strip()
        if text in ("*", ""):
            out.append(_ALL)
        elif "-" in text:
            a, _, b = text.partition("-")
            if a.isdigit() and b.isdigit():
                out.append((int(a), int(b)))
        elif text.isdigit():
            out.append((int(text), int(text)))
    return out


# The types `exposures` reads; others are skipped without decoding a value.
_EXPOSING = frozenset(
    {
        "aws_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "google_compute_firewall",
        "azurerm_network_security_rule",
        "azurerm_network_security_group",
    }
)


def exposures(change: Change, which: str) -> set[Exposure]:
    """Ports open to the internet on one side of a change."""
    if change.type not in _EXPOSING:
        return set()
    value = side(change, which)
    if not isinstance(value, dict):
        return set()
    t = change.type
    out: list[Exposure] = []
    cidrs = ("cidr_blocks", "ipv6_cidr_blocks")
    if t == "aws_security_group":
        for rule in _list(value.get("ingress")):
            if isinstance(rule, dict):
                out += _aws_rule(rule, cidrs, "protocol")
    elif t == "aws_security_group_rule" and value.get("type") == "ingress":
        out += _aws_rule(value, cidrs, "protocol")
    elif t == "aws_vpc_security_group_ingress_rule":
        out += _aws_rule(value, ("cidr_ipv4", "cidr_ipv6"), "ip_protocol")
    elif t == "AWS::EC2::SecurityGroup":
        for rule in _list(value.get("SecurityGroupIngress")):
            if isinstance(rule, dict):
                out += _aws_rule(rule, ("CidrIp", "CidrIpv6"), "IpProtocol")
    elif t == "AWS::EC2::SecurityGroupIngress":
        out += _aws_rule(value, ("CidrIp", "CidrIpv6"), "IpProtocol")
    elif t == "google_compute_firewall":
        out += _gcp_firewall(value)
    elif t == "azurerm_network_security_rule":
        out += _azure_rule(value)
    elif t == "azurerm_network_security_group":
        for rule in _list(value.get("security_rule")):
            out += _azure_rule(rule)
    return set(out)


def _gcp_firewall(value: dict[str, Any]) -> list[Exposure]:
    if str(value.get("direction") or "INGRESS").upper() != "INGRESS" or value.get("disabled"):
        return []
    out: list[Exposure] = []
    for src in _open(_list(value.get("source_ranges"))):
        for allow in _list(value.get("allow")):
            if isinstance(allow, dict):
                proto = _proto(allow.get("protocol"))
                ports = _ranges(_list(allow.get("ports"))) or [_ALL]
                out += [(proto, lo, hi, src) for lo, hi in ports]
    return out


def _azure_rule(rule: Any) -> list[Exposure]:
    if not isinstance(rule, dict):
        return []
    if (
        str(rule.get("direction")).lower() != "inbound"
        or str(rule.get("access")).lower() != "allow"
    ):
        return []
    sources = _open(
        [rule.get("source_address_prefix"), *_list(rule.get("source_address_prefixes"))]
    )
    proto = _proto(rule.get("protocol"))
    specs = [rule.get("destination_port_range"), *_list(rule.get("destination_port_ranges"))]
    ranges = _ranges([s for s in specs if s is not None])
    return [(proto, lo, hi, src) for src in sources for lo, hi in ranges]


def _covered(exp: Exposure, by: set[Exposure]) -> bool:
    proto, lo, hi, src = exp
    return any(p in (proto, "all") and a <= lo and hi <= b and s == src for p, a, b, s in by)


def _text(exp: Exposure) -> str:
    proto, lo, hi, _ = exp
    if (lo, hi) == _ALL:
        return "all ports" if proto == "all" else f"all {proto} ports"
    ports = f"port {lo}" if lo == hi else f"ports {lo}-{hi}"
    return ports if proto == "all" else f"{proto} {ports}"


def check(ctx: Context) -> Iterator[Finding]:
    allowed = {int(p) for p in ctx.option(META, "allowed_ports")}
    critical = {int(p) for p in ctx.option(META, "critical_ports")}
    for change in introducing(ctx.plan.changes):
        after = exposures(change, "after")
        if not after:
            continue
        before = exposures(change, "before") if change.action is not Action.CREATE else set()
        new = sorted(
            e for e in after if not _covered(e, before) and not (e[1] == e[2] and e[1] in allowed)
        )
        if not new:
            continue
        worst = any((e[1], e[2]) == _ALL or any(e[1] <= p <= e[2] for p in critical) for e in new)
        by_source: dict[str, list[str]] = {}
        for e in new:
            by_source.setdefault(e[3], []).append(_text(e))
        opened = "; ".join(f"from {src} on {', '.join(ports)}" for src, ports in by_source.items())
        yield ctx.finding(
            META,
            f"{change.address} opens ingress to the internet {opened}",
            change=change,
            severity=Severity.CRITICAL if worst else None,
        )
