"""PG301: ingress opened to the whole internet on ports other than web ports.

Exposure is computed on both sides of each change; only ports that were not
already open to the internet before fire. ICMP has no ports: AWS rules carry
its type in FromPort and its code in ToPort (-1: all), and ICMP reaching the
internet opens no service, so it is told as ICMP and rated low.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Change
from planguard.values import SENSITIVE, UNKNOWN

from ._common import hidden, introducing, masked, side, unmasked_side

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
    reads_values=True,
    needs_graph=False,
)

_ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "*", "internet", "any", "0.0.0.0"})
_ALL = (0, 65535)
_PORTED = frozenset({"tcp", "udp", "6", "17"})
# Protocol names and numbers (IANA: 1 ICMP, 58 ICMPv6) as the providers write them.
_ICMP = {"icmp": "icmp", "1": "icmp", "icmpv6": "icmpv6", "58": "icmpv6", "ipv6-icmp": "icmpv6"}
_ICMP_LABEL = {"icmp": "ICMP", "icmpv6": "ICMPv6"}
# What the common types are (RFC 792, RFC 4443), for the message.
_ICMP_TYPES = {
    "icmp": {
        0: "echo reply",
        3: "destination unreachable",
        4: "source quench",
        5: "redirect",
        8: "echo request",
        9: "router advertisement",
        10: "router solicitation",
        11: "time exceeded",
        12: "parameter problem",
        13: "timestamp",
        14: "timestamp reply",
    },
    "icmpv6": {
        1: "destination unreachable",
        2: "packet too big",
        3: "time exceeded",
        4: "parameter problem",
        128: "echo request",
        129: "echo reply",
        133: "router solicitation",
        134: "router advertisement",
        135: "neighbor solicitation",
        136: "neighbor advertisement",
        137: "redirect",
    },
}
# Types whose only code is 0: the code says nothing more.
_CODE_ZERO_ONLY = {
    ("icmp", 0),
    ("icmp", 8),
    ("icmp", 13),
    ("icmp", 14),
    ("icmpv6", 128),
    ("icmpv6", 129),
}

# An exposure: (protocol, first port, last port, source); protocol "all" covers
# every protocol, and the source is 0.0.0.0/0, ::/0 or a provider's "anywhere".
# For "icmp" and "icmpv6" the two numbers are the ICMP type and code, -1 for any.
Exposure = tuple[str, int, int, str]
# Exposures, each with what its message may not show: None (nothing hidden),
# UNKNOWN (its ports are known only after apply) or SENSITIVE (all of it).
Found = dict[Exposure, str | None]


class Twin(NamedTuple):
    """One value read two ways: `real` to decide on, `shown` (masked) to tell
    what a message may print."""

    real: Any
    shown: Any

    def get(self, key: str) -> Twin:
        real = self.real.get(key) if isinstance(self.real, dict) else None
        if masked(self.shown):
            return Twin(real, self.shown)
        return Twin(real, self.shown.get(key) if isinstance(self.shown, dict) else None)

    def get_either(self, key: str, other: str) -> Twin:
        """`key` if the object has it (even null), else `other`."""
        return self.get(key if isinstance(self.real, dict) and key in self.real else other)

    def items(self) -> list[Twin]:
        """As a list: nothing for null or unknown, one item for a single value."""
        real, shown = self
        if real is None or masked(real):
            return []
        if not isinstance(real, list):
            return [self]
        return [Twin(item, _nth(shown, i)) for i, item in enumerate(real)]

    @property
    def mark(self) -> str | None:
        return hidden(self.shown)


def _nth(shown: Any, i: int) -> Any:
    if isinstance(shown, list):
        return shown[i] if i < len(shown) else None
    return shown if masked(shown) else None


def _worst(*marks: str | None) -> str | None:
    if SENSITIVE in marks:
        return SENSITIVE
    return UNKNOWN if UNKNOWN in marks else None


def _open(sources: list[Twin]) -> dict[str, str | None]:
    """The sources that mean "anywhere", as written, with what hides them."""
    out: dict[str, str | None] = {}
    for source in sources:
        text = str(source.real).strip()
        if text.lower() in _ANYWHERE:
            out[text] = _worst(out.get(text), source.mark)
    return out


def _proto(value: Any) -> str:
    text = str(value if value is not None else "-1").lower()
    if text in ("-1", "all", "*"):
        return "all"
    return _ICMP.get(text, text)


def _int(value: Any) -> int | None:
    """A port, type or code: a number, or a CloudFormation string of one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _icmp(type_: int | None, code: int | None) -> tuple[int, int]:
    """(type, code) of an ICMP rule, -1 for any; what cannot be read is any."""
    if type_ is None or type_ < 0:
        return -1, -1
    return type_, code if code is not None and code >= 0 else -1


def _aws_rule(rule: Twin, cidr_keys: tuple[str, ...], proto_key: str) -> Found:
    sources = _open([s for key in cidr_keys for s in rule.get(key).items()])
    if not sources:
        return {}
    proto_twin = rule.get(proto_key)
    proto = _proto(proto_twin.real)
    low, high = rule.get_either("from_port", "FromPort"), rule.get_either("to_port", "ToPort")
    lo, hi = _int(low.real), _int(high.real)
    if proto in _ICMP_LABEL:
        lo, hi = _icmp(lo, hi)
    elif (
        proto == "all"
        or lo is None
        or hi is None
        or lo < 0
        or hi < 0
        # Port 0-0 on a protocol without ports (esp, gre) means all of it.
        or ((lo, hi) == (0, 0) and proto not in _PORTED)
    ):
        lo, hi = _ALL
    else:
        lo, hi = min(lo, hi), max(lo, hi)
    mark = _worst(proto_twin.mark, low.mark, high.mark)
    return {(proto, lo, hi, src): _worst(mark, src_mark) for src, src_mark in sources.items()}


def _ranges(specs: list[Twin]) -> list[tuple[int, int]]:
    out = []
    for spec in specs:
        text = str(spec.real).strip()
        if text in ("*", "", UNKNOWN):
            out.append(_ALL)  # an unknown range could be any
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


def exposures(change: Change, which: str, *, marked: bool = False) -> Found:
    """Ports open to the internet on one side of a change, decided on the
    unmasked values (a `sensitive()` wrapper must not hide an open port).
    With `marked`, each says what its message may not show (else None: the
    masked side is read only for what will be reported)."""
    if change.type not in _EXPOSING:
        return {}
    real = unmasked_side(change, which)
    if not isinstance(real, dict):
        return {}
    value = Twin(real, side(change, which) if marked else None)
    t = change.type
    out: Found = {}
    cidrs = ("cidr_blocks", "ipv6_cidr_blocks")
    if t == "aws_security_group":
        for rule in value.get("ingress").items():
            if isinstance(rule.real, dict):
                _add(out, _aws_rule(rule, cidrs, "protocol"))
    elif t == "aws_security_group_rule" and real.get("type") == "ingress":
        _add(out, _aws_rule(value, cidrs, "protocol"))
    elif t == "aws_vpc_security_group_ingress_rule":
        _add(out, _aws_rule(value, ("cidr_ipv4", "cidr_ipv6"), "ip_protocol"))
    elif t == "AWS::EC2::SecurityGroup":
        for rule in value.get("SecurityGroupIngress").items():
            if isinstance(rule.real, dict):
                _add(out, _aws_rule(rule, ("CidrIp", "CidrIpv6"), "IpProtocol"))
    elif t == "AWS::EC2::SecurityGroupIngress":
        _add(out, _aws_rule(value, ("CidrIp", "CidrIpv6"), "IpProtocol"))
    elif t == "google_compute_firewall":
        _add(out, _gcp_firewall(value))
    elif t == "azurerm_network_security_rule":
        _add(out, _azure_rule(value))
    elif t == "azurerm_network_security_group":
        for rule in value.get("security_rule").items():
            _add(out, _azure_rule(rule))
    return out


def _add(out: Found, found: Found) -> None:
    for exp, mark in found.items():
        out[exp] = _worst(out[exp], mark) if exp in out else mark


def _gcp_firewall(value: Twin) -> Found:
    real = value.real
    if str(real.get("direction") or "INGRESS").upper() != "INGRESS" or real.get("disabled"):
        return {}
    out: Found = {}
    for src, src_mark in _open(value.get("source_ranges").items()).items():
        for allow in value.get("allow").items():
            if isinstance(allow.real, dict):
                proto_twin, ports_twin = allow.get("protocol"), allow.get("ports")
                proto = _proto(proto_twin.real)
                # GCP takes no ports for ICMP: the rule allows every type.
                ports = (
                    [(-1, -1)] if proto in _ICMP_LABEL else _ranges(ports_twin.items()) or [_ALL]
                )
                mark = _worst(src_mark, proto_twin.mark, ports_twin.mark)
                _add(out, {(proto, lo, hi, src): mark for lo, hi in ports})
    return out


def _azure_rule(rule: Twin) -> Found:
    real = rule.real
    if not isinstance(real, dict):
        return {}
    if (
        str(real.get("direction")).lower() != "inbound"
        or str(real.get("access")).lower() != "allow"
    ):
        return {}
    sources = _open(
        [rule.get("source_address_prefix"), *rule.get("source_address_prefixes").items()]
    )
    proto_twin = rule.get("protocol")
    proto = _proto(proto_twin.real)
    specs = [rule.get("destination_port_range"), *rule.get("destination_port_ranges").items()]
    specs = [s for s in specs if s.real is not None]
    mark = _worst(proto_twin.mark, *(s.mark for s in specs))
    # Azure's port ranges do not apply to ICMP: the rule allows every type.
    ranges = [(-1, -1)] if proto in _ICMP_LABEL else _ranges(specs)
    return {
        (proto, lo, hi, src): _worst(mark, src_mark)
        for src, src_mark in sources.items()
        for lo, hi in ranges
    }


def _covered(exp: Exposure, by: Found) -> bool:
    """Whether `by` (what was open before) already opened `exp` to its source."""
    proto, lo, hi, src = exp
    for p, a, b, s in by:
        if s != src or p not in (proto, "all"):
            continue
        if proto not in _ICMP_LABEL:
            if a <= lo and hi <= b:
                return True
        elif (p == "all" and (a, b) == _ALL) or (p == proto and a in (-1, lo) and b in (-1, hi)):
            return True
    return False


def _text(exp: Exposure, mark: str | None) -> str:
    proto, lo, hi, _ = exp
    if proto in _ICMP_LABEL:
        return _icmp_text(proto, lo, hi, mark)
    if mark == UNKNOWN:
        return "ports known only after apply (planguard cannot see them)"
    if (lo, hi) == _ALL:
        return "all ports" if proto == "all" else f"all {proto} ports"
    ports = f"port {lo}" if lo == hi else f"ports {lo}-{hi}"
    return ports if proto == "all" else f"{proto} {ports}"


def _icmp_text(proto: str, type_: int, code: int, mark: str | None) -> str:
    label = _ICMP_LABEL[proto]
    if mark == UNKNOWN:
        return f"{label} types known only after apply (planguard cannot see them)"
    if type_ < 0:
        return f"all {label} types"
    text = f"{label} type {type_}"
    if code >= 0 and (proto, type_) not in _CODE_ZERO_ONLY:
        text += f" code {code}"
    name = _ICMP_TYPES[proto].get(type_)
    return f"{text} ({name})" if name else text


def _evidence(exp: Exposure) -> str:
    proto, lo, hi, src = exp
    if proto in _ICMP_LABEL:
        return f"{proto} type {lo} code {hi} from {src}"
    return f"{proto} {lo}-{hi} from {src}"


def check(ctx: Context) -> Iterator[Finding]:
    allowed = {int(p) for p in ctx.option(META, "allowed_ports")}
    critical = {int(p) for p in ctx.option(META, "critical_ports")}
    for change in introducing(ctx.plan.changes):
        after = exposures(change, "after")
        if not after:
            continue
        before = exposures(change, "before") if change.action is not Action.CREATE else {}
        new = sorted(e for e in after if not _covered(e, before) and not _allowed(e, allowed))
        if not new:
            continue
        ported = [e for e in new if e[0] not in _ICMP_LABEL]
        worst = any(
            (e[1], e[2]) == _ALL or any(e[1] <= p <= e[2] for p in critical) for e in ported
        )
        marks = exposures(change, "after", marked=True)
        by_source: dict[str, list[str]] = {}
        for e in new:
            if marks[e] != SENSITIVE:
                by_source.setdefault(e[3], []).append(_text(e, marks[e]))
        parts = [f"from {src} on {', '.join(ports)}" for src, ports in by_source.items()]
        if any(marks[e] == SENSITIVE for e in new):
            parts.append(SENSITIVE)  # what is open, and from where, is not shown
        severity = Severity.CRITICAL if worst else None
        tail = ""
        if not ported:
            # Ping and its kin reach the kernel, not a service: worth knowing, not a block.
            severity, tail = Severity.LOW, " (ICMP only: no service port is opened)"
        yield ctx.finding(
            META,
            f"{change.address} opens ingress to the internet {'; '.join(parts)}{tail}",
            change=change,
            severity=severity,
            evidence=[_evidence(e) for e in new],
        )


def _allowed(exp: Exposure, allowed: set[int]) -> bool:
    """A single allowed port (80, 443) of a protocol with ports."""
    proto, lo, hi, _ = exp
    return proto not in _ICMP_LABEL and lo == hi and lo in allowed
