"""The impact picture: a mermaid flowchart a reviewer can read at comment width.

Arrows point from a resource to what depends on it, the way a destroy
spreads (the same direction in every graph format). Boxes are coloured by
what happens to them, with a legend. count/for_each siblings with the same
neighbours are one box (`aws_instance.web[0..11] ×12`): each sibling had the
same arrows, so nothing is lost. When the picture is bounded (the PR comment),
a box whose dependents are not all drawn carries a dotted "+N more" box (N:
what depends on it, directly or not, and is not drawn), so a cut never looks
like a leaf; the legend counts the destroyed or replaced resources left out.
The direction (LR or TB) is the one the layout needs less width for: GitHub
scales a picture down to the comment column (~880 px), and its text with it.

Labels are user-controlled: `mermaid_label` entity-codes everything but a few
safe characters, so no name can end a label, a line or the block.
"""

from __future__ import annotations

import functools
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from planguard.load.tfaddr import AddressError, Key, format_key, split
from planguard.model import DESTRUCTIVE, Action
from planguard.report.visible import show_hidden

if TYPE_CHECKING:
    from collections.abc import Mapping

    from planguard.facts import DestructiveRow
    from planguard.graph import DependencyGraph, Impact
    from planguard.review import PlanReview

GRAPH_NODES = 40  # boxes in the comment's picture, "+N more" boxes included
FANOUT = 8  # dependents drawn under one box; the others count in its "+N more"
LABEL_CHARS = 64  # longer labels are cut in the middle (type names run to 40)
# Natural widths past this are scaled below ~13 px text in an 880 px column.
MAX_WIDTH = 1100
# Mermaid draws a box about 8.2 px a character of its 16 px text, plus padding.
CHAR_PX, BOX_PX, GAP_PX, RANK_PX, FRAME_PX, TB_SPREAD = 8.2, 34, 24, 80, 40, 1.3

LEGEND = {
    "destroyed": "destroyed",
    "replaced": "replaced",
    "downstream": "downstream",
    "unaffected": "not affected",
    "more": "+N: dependents not drawn",
}
# Fixed text only. Explicit text colours keep labels readable in GitHub's dark
# theme too; frames have no fill, so the theme's arrows stay visible on them.
STYLES = {
    "destroyed": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#1f2328",
    "replaced": "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,stroke-dasharray:6 3,color:#1f2328",
    "downstream": "fill:#ddf4ff,stroke:#0969da,color:#1f2328",
    "unaffected": "fill:#f6f8fa,stroke:#8c959f,color:#1f2328",
    "more": "fill:#ffffff,stroke:#8c959f,stroke-dasharray:3 3,color:#59636e",
}
FRAME_STYLE = "fill:none,stroke:#8c959f"
# Tighter than mermaid's defaults (padding 15, nodeSpacing 50): a quarter
# narrower, so a quarter less scaling down in the comment.
INIT = '%%{init: {"flowchart": {"padding": 8, "nodeSpacing": 24, "rankSpacing": 40}}}%%'
LEGEND_TITLE = "an arrow points at what depends on a resource"

NBSP = "\u00a0"
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.\-/:\[\]]")


def mermaid_label(text: str) -> str:
    """Mermaid has no escape for quotes inside labels; use its #code; entities."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", show_hidden(text))


def actions(graph: DependencyGraph) -> dict[str, Action]:
    """Each address's action; a destructive one wins over a deposed or moved twin's."""
    out: dict[str, Action] = {}
    for c in graph.plan.changes:
        if c.address not in out or c.action in DESTRUCTIVE:
            out[c.address] = c.action
    return out


def impacted_nodes(graph: DependencyGraph) -> set[str]:
    """The destroyed and replaced resources and everything that depends on them."""
    keep: set[str] = set()
    for impact in graph.impact():
        keep.add(impact.address)
        keep.update(impact.dependents)
    return keep


_KIND = {Action.DELETE: "destroyed", Action.REPLACE: "replaced"}


def kinds(graph: DependencyGraph, impacted: set[str]) -> dict[str, str]:
    """Each node's colour: destroyed, replaced (which wins over a deposed
    object's destroy), downstream (of those) or unaffected."""
    out = {node: "downstream" if node in impacted else "unaffected" for node in graph.nodes}
    for c in graph.plan.changes:
        if c.action in _KIND and out.get(c.address, "replaced") != "replaced":
            out[c.address] = _KIND[c.action]
    return out


def _cut(text: str) -> str:
    if len(text) <= LABEL_CHARS:
        return text
    half = (LABEL_CHARS - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


# -- boxes ---------------------------------------------------------------------------


@dataclass(slots=True)
class Box:
    """One drawn node: a resource, or count/for_each siblings with the same neighbours."""

    members: tuple[str, ...]
    module: str  # the module instance ("" at the root)
    base: str  # the address within the module, without the instance key
    keys: tuple[Key, ...]  # the members' instance keys; () for one resource without
    text: str  # the label within the module
    kind: str
    hidden: int = 0  # resources behind it (its dependents, and theirs) not drawn
    note: str = ""  # a second line: a CloudFormation logical id says nothing of its type

    @property
    def sibling(self) -> tuple[str, str, str] | None:
        """What siblings share, for boxes that may join others."""
        return (self.module, self.base, self.kind) if self.keys else None


def _local(graph: DependencyGraph, address: str) -> tuple[str, str]:
    """(the module instance, the address within it)."""
    res = graph.plan.resources.get(address)
    module = res.module if res is not None else ""
    if not module or not address.startswith(module + "."):
        return "", address
    return module, address[len(module) + 1 :]


def _box(graph: DependencyGraph, address: str, kind: str) -> Box:
    res = graph.plan.resources.get(address)
    if res is not None and "::" in res.type:  # AWS::RDS::DBInstance
        return Box((address,), "", address, (), address, kind, note=res.type)
    module, local = _local(graph, address)
    # Type and name never hold "[": the first one starts the instance key.
    base, bracket, _ = local.partition("[")
    key = _key(local[len(base) :]) if bracket else None
    if key is None:
        return Box((address,), module, local, (), local, kind)
    return Box((address,), module, base, (key,), local, kind)


def _key(text: str) -> Key:
    """The instance key written `[3]` or `["a"]`; None for anything else."""
    if text[1:-1].isdigit() and text[-1] == "]":
        return int(text[1:-1])
    try:
        key = json.loads(text[1:-1]) if text.endswith('"]') else None
    except ValueError:
        return None
    return key if isinstance(key, str) else None


def _join(boxes: Sequence[Box]) -> Box:
    """Siblings as one box: `web[0..11] ×12`, `bucket[*] ×3`."""
    first = boxes[0]
    if len(boxes) == 1:
        return first
    keys = tuple(k for box in boxes for k in box.keys)
    count = f"{NBSP}×{len(keys)}"  # the count never wraps alone
    ints = sorted(k for k in keys if isinstance(k, int))
    if len(ints) == len(keys) and ints[-1] - ints[0] == len(ints) - 1:
        text = f"{first.base}[{ints[0]}..{ints[-1]}]{count}"
    else:
        # A few short keys are named; more, or long ones, would need cutting.
        named = ",".join(format_key(k)[1:-1] for k in keys)
        text = f"{first.base}[{named if len(keys) <= 3 and len(named) <= 16 else '*'}]{count}"
    members = tuple(m for box in boxes for m in box.members)
    return replace(first, members=members, keys=keys, text=text)


def _group(boxes: Sequence[Box], near: Sequence[object]) -> list[list[int]]:
    """Indices of `boxes` in groups: siblings whose `near` (neighbours) agree."""
    groups: dict[object, list[int]] = {}
    for i, box in enumerate(boxes):
        sibling = box.sibling
        key = (sibling, near[i]) if sibling is not None else i
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def collapse(
    graph: DependencyGraph,
    scope: Iterable[str],
    kind: dict[str, str],
    down: dict[str, tuple[str, ...]] | None = None,
) -> list[Box]:
    """The boxes for `scope`: siblings with the same neighbours in scope are one.
    `down`: each address's direct dependents in scope, when already known."""
    inside = set(scope)
    if down is None:
        down = _down(graph, inside)
    singles = [_box(graph, a, kind[a]) for a in sorted(inside)]
    # Only a resource with a sibling needs its neighbours compared.
    count: dict[object, int] = {}
    for box in singles:
        if box.keys:
            count[box.sibling] = count.get(box.sibling, 0) + 1
    near = [
        (tuple(d for d in graph.dependencies(box.members[0]) if d in inside), down[box.members[0]])
        if box.keys and count[box.sibling] > 1
        else None
        for box in singles
    ]
    return [_join([singles[i] for i in group]) for group in _group(singles, near)]


def _down(graph: DependencyGraph, inside: set[str]) -> dict[str, tuple[str, ...]]:
    return {a: tuple(d for d in graph.direct_dependents(a) if d in inside) for a in inside}


# -- the picture -----------------------------------------------------------------------


@dataclass
class Picture:
    boxes: list[Box]
    edges: list[tuple[int, int]]  # (box of the dependency, box of the dependent)
    others: int = 0  # in scope, neither drawn nor counted behind a drawn box
    direction: str = "LR"

    def member_edges(self) -> set[tuple[str, str]]:
        """The drawn arrows between resources: (dependency, dependent)."""
        boxes = self.boxes
        return {(a, b) for i, j in self.edges for a in boxes[i].members for b in boxes[j].members}

    def labels(self) -> list[list[str]]:
        return _labels(self.boxes)

    def mermaid(self) -> str:
        return _mermaid(self)


def draw(
    graph: DependencyGraph,
    scope: Iterable[str],
    kind: dict[str, str],
    roots: Sequence[str] = (),
    budget: int | None = None,
    impacts: Mapping[str, Impact] | None = None,
) -> Picture:
    """The picture of `scope`. With a `budget`: at most that many boxes, grown
    from `roots` (the most consequential first) to what depends on them, and
    the graph read only around what is drawn (a plan of 50,000 resources has
    tens of thousands in scope)."""
    inside = set(scope)
    if budget is not None:
        near = _Near(graph, inside, kind, roots)
        near.impacts = impacts or {}
        return _bounded(near, budget)
    down = _down(graph, inside)
    boxes = collapse(graph, inside, kind, down)
    box_of = {a: i for i, box in enumerate(boxes) for a in box.members}
    # Siblings in one box share their dependents: the first one's are all.
    edges = sorted(
        {(i, box_of[d]) for i, box in enumerate(boxes) for d in down[box.members[0]]}
        - {(i, i) for i in range(len(boxes))}
    )
    return Picture(boxes, edges, 0, _direction(boxes, edges, 0))


class _Near:
    """A scope read from the graph lazily: neighbours, boxes, reach."""

    def __init__(
        self, graph: DependencyGraph, inside: set[str], kind: dict[str, str], roots: Sequence[str]
    ) -> None:
        self.graph, self.inside, self.kind = graph, inside, kind
        self.roots = [r for r in dict.fromkeys(roots) if r in inside]
        self.impacts: Mapping[str, Impact] = {}  # known already: the review's
        self._up: dict[str, tuple[str, ...]] = {}
        self._down: dict[str, tuple[str, ...]] = {}
        self._single: dict[str, Box] = {}
        self._box: dict[str, Box] = {}
        self._families: dict[str | None, dict[object, list[str]]] = {}

    def up(self, a: str) -> tuple[str, ...]:
        if a not in self._up:
            self._up[a] = tuple(d for d in self.graph.dependencies(a) if d in self.inside)
        return self._up[a]

    def down(self, a: str) -> tuple[str, ...]:
        if a not in self._down:
            self._down[a] = tuple(d for d in self.graph.direct_dependents(a) if d in self.inside)
        return self._down[a]

    def single(self, a: str) -> Box:
        if a not in self._single:
            self._single[a] = _box(self.graph, a, self.kind[a])
        return self._single[a]

    def families(self, dependency: str | None) -> dict[object, list[str]]:
        """What depends on `dependency` (None: the roots), by sibling key."""
        if dependency not in self._families:
            found: dict[object, list[str]] = {}
            for c in self.down(dependency) if dependency is not None else self.roots:
                module, local = _local(self.graph, c)
                base, bracket, _ = local.partition("[")
                if bracket:  # a box without a key has no siblings; parsed when drawn
                    found.setdefault((module, base, self.kind[c]), []).append(c)
            self._families[dependency] = found
        return self._families[dependency]

    def box(self, a: str) -> Box:
        """`a`'s box, with its siblings of the same neighbours: those depend on
        `a`'s first dependency (or, with none, are roots without one)."""
        if a not in self._box:
            mine = self.single(a)
            family = [mine]
            if mine.keys:
                deps = self.up(a)
                near = self.families(deps[0] if deps else None).get(mine.sibling, [a])
                family = [self.single(c) for c in near if self.up(c) == deps] or [mine]
            family.sort(key=lambda b: b.members[0])
            sig = [self.down(b.members[0]) for b in family]
            for group in _group(family, sig):
                joined = _join([family[i] for i in group])
                self._box.update(dict.fromkeys(joined.members, joined))
        return self._box[a]

    def kids(self, box: Box, drawn: set[int], limit: int) -> list[Box]:
        """Up to `limit` boxes not `drawn` that depend on `box`, the most
        consequential first: destroyed, replaced, with dependents of their own."""
        below = self.down(box.members[0])
        rank = {"destroyed": 0, "replaced": 1}
        ask = len(below) <= 8 * FANOUT  # counting dependents costs a look-up each

        def weight(a: str) -> tuple[int, int, str]:
            return (rank.get(self.kind[a], 2), -len(self.down(a)) if ask else 0, a)

        found: dict[int, Box] = {}
        for a in sorted(below, key=weight):
            kid = self.box(a)
            if id(kid) not in drawn and id(kid) != id(box):
                found.setdefault(id(kid), kid)
                if len(found) >= limit:
                    break
        return list(found.values())

    def reach(self, box: Box) -> set[str]:
        """Everything that depends on `box`, directly or not (siblings in a
        box have the same dependents)."""
        impact = self.impacts.get(box.members[0])
        found = impact.dependents if impact is not None else self.graph.dependents(box.members[0])
        return set(found)


def _choose(near: _Near, budget: int) -> list[Box]:
    """Boxes to draw: the heaviest roots, then what depends on them nearest
    first (at most FANOUT under one box), then the other roots."""
    drawn: list[Box] = []
    seen: set[int] = set()
    queue: deque[Box] = deque()

    def take(box: Box) -> None:
        if id(box) not in seen and len(drawn) < budget:
            seen.add(id(box))
            drawn.append(box)
            queue.append(box)

    def spread() -> None:
        while queue and len(drawn) < budget:
            for kid in near.kids(queue.popleft(), seen, FANOUT):
                take(kid)

    # The roots come most dependents first: the first quarter of the boxes
    # goes to roots with dependents, then each root in turn while there is room.
    first = max(1, budget // 4)
    for root in near.roots:
        if len(drawn) >= first:
            break
        if near.down(root):
            take(near.box(root))
    spread()
    for root in near.roots:
        if len(drawn) >= budget:
            break
        take(near.box(root))
        spread()
    # Make room for the "+N more" boxes, and keep the text legible.
    while len(drawn) > 1:
        shown, edges = _drawn(near, drawn)
        more = sum(1 for b in shown if b.hidden)
        if len(shown) + more <= budget and _narrowest(shown, edges, 0) <= MAX_WIDTH:
            break
        drawn.pop()
    return drawn


def _drawn(near: _Near, drawn: list[Box]) -> tuple[list[Box], list[tuple[int, int]]]:
    """The drawn boxes (hidden: 1 where a dependent is not drawn) and their arrows."""
    where = {m: n for n, box in enumerate(drawn) for m in box.members}
    edges: set[tuple[int, int]] = set()
    shown = []
    for n, box in enumerate(drawn):
        down = near.down(box.members[0])
        edges.update((n, where[d]) for d in down if d in where and where[d] != n)
        shown.append(replace(box, hidden=int(any(d not in where for d in down))))
    return shown, sorted(edges)


def _bounded(near: _Near, budget: int) -> Picture:
    """The chosen boxes with what is behind them; drawn siblings with the same
    drawn neighbours as one box."""
    chosen = _choose(near, budget)
    shown, edges = _drawn(near, chosen)
    ups: list[set[int]] = [set() for _ in shown]
    downs: list[set[int]] = [set() for _ in shown]
    for a, b in edges:
        downs[a].add(b)
        ups[b].add(a)
    groups = _group(shown, [(frozenset(u), frozenset(d)) for u, d in zip(ups, downs, strict=True)])
    drawn = {m for box in chosen for m in box.members}
    # What is not drawn but behind a drawn box is behind a cut one (the last
    # drawn box on the way to it): only those are walked.
    behind: set[str] = set()
    boxes, where = [], {}
    for n, group in enumerate(groups):
        hidden = 0
        if any(shown[i].hidden for i in group):
            reach = set().union(*(near.reach(chosen[i]) for i in group)) - drawn
            behind |= reach
            hidden = len(reach)
        boxes.append(replace(_join([chosen[i] for i in group]), hidden=hidden))
        where.update(dict.fromkeys(group, n))
    merged = sorted({(where[a], where[b]) for a, b in edges})
    others = sum(1 for r in near.roots if r not in drawn and r not in behind)
    return Picture(boxes, merged, others, _direction(boxes, merged, others))


# -- layout: labels, and the direction by width ---------------------------------------------


@functools.lru_cache(maxsize=4096)  # a big plan's boxes share a few hundred modules
def _short_module(module: str) -> str:
    """`module.app["us"].module.svc["web"]` → `app["us"].svc["web"]`."""
    try:
        return ".".join(name + format_key(key) for name, key in split(module)[1::2])
    except AddressError:
        return module


def _labels(boxes: Sequence[Box]) -> list[list[str]]:
    """Each box's label lines. Within one module the picture is framed and
    named after it; across several, a box's module is its label's first line."""
    framed = len({box.module for box in boxes}) == 1
    out = []
    for box in boxes:
        lines = [_cut(box.text)]
        if box.module and not framed:
            lines.insert(0, _cut(_short_module(box.module)))
        if box.note:
            lines.append(_cut(box.note))
        out.append(lines)
    return out


def _more_label(box: Box) -> str:
    return f"+{box.hidden} more"


def _box_px(label: str) -> float:
    return CHAR_PX * len(label) + BOX_PX


def _layers(count: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Each box's rank: the longest chain of arrows down to it (cycles cut)."""
    into = [0] * count
    out: list[list[int]] = [[] for _ in range(count)]
    for a, b in edges:
        into[b] += 1
        out[a].append(b)
    rank = [0] * count
    ready = [n for n in range(count) if into[n] == 0]
    for node in ready:  # grows while walked
        for child in out[node]:
            rank[child] = max(rank[child], rank[node] + 1)
            into[child] -= 1
            if into[child] == 0:
                ready.append(child)
    return rank


def _parts(count: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Each box's connected part (a union-find root)."""
    root = list(range(count))

    def find(n: int) -> int:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n

    for a, b in edges:
        root[find(a)] = find(b)
    return [find(n) for n in range(count)]


def _width(boxes: Sequence[Box], edges: Sequence[tuple[int, int]], others: int, way: str) -> float:
    """The picture's natural width in px, roughly as mermaid (dagre) lays it
    out: ranks side by side (LR) or stacked (TB). Parts not linked to the
    largest end in its last ranks (as dagre places them)."""
    widths = [_box_px(max(lines, key=len)) for lines in _labels(boxes)]
    links = list(edges)
    for n, box in enumerate(boxes):
        if box.hidden:
            widths.append(_box_px(_more_label(box)))
            links.append((n, len(widths) - 1))
    rank = _layers(len(widths), links)
    parts: dict[int, list[int]] = {}
    for n, part in enumerate(_parts(len(widths), links)):
        parts.setdefault(part, []).append(n)
    deepest = max(rank, default=0)
    ranks: dict[int, list[float]] = {}
    for members in parts.values():
        shift = deepest - max(rank[n] for n in members)
        for n in members:
            ranks.setdefault(rank[n] + shift, []).append(widths[n])
    if way == "LR":
        main = sum(map(max, ranks.values())) + RANK_PX * max(0, len(ranks) - 1)
    else:
        # dagre shifts rows against each other to straighten arrows.
        rows = (sum(ws) + GAP_PX * (len(ws) - 1) for ws in ranks.values())
        main = TB_SPREAD * max(rows, default=0)
    if len({box.module for box in boxes} - {""}) == 1:
        main += FRAME_PX
    row = sum(_box_px(text) + GAP_PX for text in _legend(boxes, others).values())
    return max(main, row, _box_px(LEGEND_TITLE))


def _narrowest(boxes: Sequence[Box], edges: Sequence[tuple[int, int]], others: int) -> float:
    return min(_width(boxes, edges, others, way) for way in ("LR", "TB"))


def _direction(boxes: Sequence[Box], edges: Sequence[tuple[int, int]], others: int) -> str:
    lr, tb = (_width(boxes, edges, others, way) for way in ("LR", "TB"))
    # Left to right reads like the cascade it is; top to bottom when that is
    # narrower and left to right would be scaled down in the comment.
    return "TB" if lr > MAX_WIDTH * 0.8 and tb < lr else "LR"


# -- mermaid ---------------------------------------------------------------------------


def _legend(boxes: Sequence[Box], others: int) -> dict[str, str]:
    """Class → legend text, for what the picture shows."""
    used = {box.kind for box in boxes}
    if any(box.hidden for box in boxes):
        used.add("more")
    out = {kind: text for kind, text in LEGEND.items() if kind in used}
    if others:
        out["others"] = f"{others} more destroyed or replaced"
    return out


def _mermaid(pic: Picture) -> str:
    """The flowchart: the picture in a frameless box laid out its own way, the
    legend in a row under it (beside it, it would widen the picture)."""
    lines = [INIT, "flowchart TB"]
    if not pic.boxes:
        return "\n".join(lines) + "\n"
    more: dict[int, str] = {}
    for n, box in enumerate(pic.boxes):
        if box.hidden:
            more[n] = f"n{len(pic.boxes) + len(more)}"
    lines += ['  subgraph pic [" "]', f"    direction {pic.direction}"]
    modules = {box.module for box in pic.boxes}
    framed = len(modules) == 1 and "" not in modules
    pad = "      " if framed else "    "
    if framed:
        lines.append(f'    subgraph m0 ["{mermaid_label(_cut(pic.boxes[0].module))}"]')
        lines.append(f"      direction {pic.direction}")
    for n, label in enumerate(pic.labels()):
        # <br> is the picture's own: user text in a label is entity-coded.
        lines.append(f'{pad}n{n}["{"<br>".join(mermaid_label(line) for line in label)}"]')
        if n in more:
            lines.append(f'{pad}{more[n]}["{mermaid_label(_more_label(pic.boxes[n]))}"]')
    if framed:
        lines.append("    end")
    lines.extend(f"    n{a} --> n{b}" for a, b in pic.edges)
    lines.extend(f"    n{n} -.-> {m}" for n, m in more.items())
    lines.append("  end")
    legend = _legend(pic.boxes, pic.others)
    lines.append(f'  subgraph legend ["{mermaid_label(LEGEND_TITLE)}"]')
    lines.append("    direction TB")  # unlinked boxes side by side: one row
    # No-break spaces: mermaid wraps labels wider than 200 px at spaces.
    for k, text in enumerate(legend.values()):
        lines.append(f'    k{k}["{mermaid_label(text.replace(" ", NBSP))}"]')
    lines += ["  end", "  pic ~~~ legend"]
    members: dict[str, list[str]] = {}
    for n, box in enumerate(pic.boxes):
        members.setdefault(box.kind, []).append(f"n{n}")
    members.setdefault("more", []).extend(more.values())
    for k, kind in enumerate(legend):
        members.setdefault("more" if kind == "others" else kind, []).append(f"k{k}")
    for kind, style in STYLES.items():
        if members.get(kind):
            lines.append(f"  classDef {kind} {style}")
            lines.append(f"  class {','.join(members[kind])} {kind}")
    lines.append("  style pic fill:none,stroke:none")
    lines.extend(f"  style {frame} {FRAME_STYLE}" for frame in (["m0"] if framed else []))
    lines.append(f"  style legend {FRAME_STYLE}")
    return "\n".join(lines) + "\n"


# -- the PR comment's picture ----------------------------------------------------------


def comment_picture(pr: PlanReview, rows: Sequence[DestructiveRow]) -> tuple[Picture, set[str]]:
    """The comment's picture, and the resources it is about (every destroyed
    or replaced one and what depends on them), drawn or not.

    It grows from the destroyed or replaced resources with the most dependents,
    GRAPH_NODES boxes at most.
    """
    order = sorted(range(len(rows)), key=lambda i: (-rows[i].downstream, i))
    roots = [a for a in dict.fromkeys(rows[i].change.address for i in order) if a in pr.graph]
    scope = set(roots)
    for address in roots:
        impact = pr.impacts.get(address)
        if impact is not None:
            scope.update(impact.dependents)
    # The rows say what is destroyed or replaced; the rest of the scope depends on it.
    kind = dict.fromkeys(scope, "downstream")
    for row in rows:
        if row.change.address in scope and kind[row.change.address] != "replaced":
            kind[row.change.address] = _KIND.get(row.change.action, "downstream")
    return draw(pr.graph, scope, kind, roots, GRAPH_NODES, pr.impacts), scope


def comment_graph(pr: PlanReview, rows: Sequence[DestructiveRow]) -> tuple[str | None, int]:
    """The comment's mermaid picture and how many resources it is about; None
    when nothing in it is linked (the destructive table already says it all)."""
    pic, scope = comment_picture(pr, rows)
    if not pic.edges:
        return None, 0
    return pic.mermaid(), len(scope)
