"""The impact picture: a mermaid flowchart a reviewer can read at comment width.

Arrows point from a resource to what depends on it, the way a destroy
spreads (the same direction in every graph format). Boxes are coloured by
what happens to them, with a legend. count/for_each siblings with the same
neighbours are one box (`aws_instance.web[0..11] ×12`): each sibling had the
same arrows, so nothing is lost. When the picture is bounded (the PR comment),
a box whose dependents are not all drawn carries a dotted "+N more" box, so a
cut never looks like a leaf. The direction (LR or TB) is the one the layout
needs less width for: GitHub scales a picture down to the comment column
(~880 px), and its text with it.

Labels are user-controlled: `mermaid_label` entity-codes everything but a few
safe characters, so no name can end a label, a line or the block.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from planguard.load.tfaddr import AddressError, Key, format_key, split
from planguard.model import DESTRUCTIVE, Action
from planguard.report.visible import show_hidden

if TYPE_CHECKING:
    from planguard.facts import DestructiveRow
    from planguard.graph import DependencyGraph
    from planguard.review import PlanReview

GRAPH_NODES = 40  # boxes in the comment's picture, "+N more" boxes included
FANOUT = 8  # dependents drawn under one box; the others count in its "+N more"
LABEL_CHARS = 48  # longer labels are cut in the middle
# Natural widths past this are scaled below ~13 px text in an 880 px column.
MAX_WIDTH = 1100
# Mermaid draws a box about 8.2 px a character of its 16 px text, plus padding.
CHAR_PX, BOX_PX, GAP_PX, RANK_PX, FRAME_PX, TB_SPREAD = 8.2, 34, 24, 80, 40, 1.3

LEGEND = {
    "destroyed": "destroyed",
    "replaced": "replaced",
    "downstream": "downstream",
    "unaffected": "not affected",
    "more": "+N: not drawn",
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


def kinds(graph: DependencyGraph, impacted: set[str]) -> dict[str, str]:
    """Each node's colour: destroyed, replaced, downstream (of those) or unaffected."""
    acts = actions(graph)
    out = {}
    for node in graph.nodes:
        action = acts.get(node)
        if action is Action.DELETE:
            out[node] = "destroyed"
        elif action is Action.REPLACE:
            out[node] = "replaced"
        else:
            out[node] = "downstream" if node in impacted else "unaffected"
    return out


def _cut(text: str) -> str:
    if len(text) <= LABEL_CHARS:
        return text
    half = (LABEL_CHARS - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


# -- boxes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """One drawn node: a resource, or count/for_each siblings with the same neighbours."""

    members: tuple[str, ...]
    module: str  # the module instance ("" at the root)
    base: str  # the address within the module, without the instance key
    keys: tuple[Key, ...]  # the members' instance keys; () for one resource without
    text: str  # the label within the module
    kind: str
    hidden: int = 0  # resources behind it (its dependents, and theirs) not drawn

    @property
    def sibling(self) -> tuple[str, str, str] | None:
        """What siblings share, for boxes that may join others."""
        return (self.module, self.base, self.kind) if self.keys else None


def _box(graph: DependencyGraph, address: str, kind: str) -> Box:
    res = graph.plan.resources.get(address)
    module = res.module if res is not None else ""
    if not module or not address.startswith(module + "."):
        module = ""
    local = address[len(module) + 1 :] if module else address
    try:
        steps = split(local)
    except AddressError:
        steps = []
    if len(steps) < 2 or steps[-1][1] is None or any(k is not None for _, k in steps[:-1]):
        return Box((address,), module, local, (), local, kind)
    base = ".".join(name for name, _ in steps)
    return Box((address,), module, base, (steps[-1][1],), local, kind)


def _join(boxes: Sequence[Box]) -> Box:
    """Siblings as one box: `web[0..11] ×12`, `bucket[*] ×3`."""
    first = boxes[0]
    if len(boxes) == 1:
        return first
    keys = tuple(k for box in boxes for k in box.keys)
    count = f"\u00a0×{len(keys)}"  # no-break space: the count never wraps alone
    ints = sorted(k for k in keys if isinstance(k, int))
    if len(ints) == len(keys) and ints[-1] - ints[0] == len(ints) - 1:
        text = f"{first.base}[{ints[0]}..{ints[-1]}]{count}"
    elif len(keys) <= 3:
        text = f"{first.base}[{','.join(format_key(k)[1:-1] for k in keys)}]{count}"
    else:
        text = f"{first.base}[*]{count}"
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


def collapse(graph: DependencyGraph, scope: Iterable[str], kind: dict[str, str]) -> list[Box]:
    """The boxes for `scope`: siblings with the same neighbours in scope are one."""
    inside = set(scope)
    order = sorted(inside)
    singles = [_box(graph, a, kind[a]) for a in order]
    near = [
        (
            tuple(d for d in graph.dependencies(a) if d in inside),
            tuple(d for d in graph.direct_dependents(a) if d in inside),
        )
        if box.keys
        else None
        for a, box in zip(order, singles, strict=True)
    ]
    return [_join([singles[i] for i in group]) for group in _group(singles, near)]


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
) -> Picture:
    """The picture of `scope`; with a `budget`, at most that many boxes, grown
    from `roots` (the most consequential first) to what depends on them."""
    boxes = collapse(graph, scope, kind)
    box_of = {a: i for i, box in enumerate(boxes) for a in box.members}
    dents: list[set[int]] = []
    for i, box in enumerate(boxes):
        # Siblings in one box share their dependents: the first one's are all.
        near = {box_of.get(d, -1) for d in graph.direct_dependents(box.members[0])}
        dents.append(near - {-1, i})
    if budget is None:
        edges = sorted((i, j) for i in range(len(boxes)) for j in dents[i])
        return Picture(boxes, edges, 0, _direction(boxes, edges, 0))
    chosen = _choose(boxes, dents, [box_of[r] for r in roots if r in box_of], budget)
    return _bounded(boxes, dents, chosen)


def _bounded(boxes: list[Box], dents: list[set[int]], chosen: list[int]) -> Picture:
    """The chosen boxes, each with what is behind it; drawn siblings with the
    same drawn neighbours as one box."""
    kept = set(chosen)
    behind = {b: _behind(dents, kept, b) for b in chosen}
    up: dict[int, set[int]] = {b: set() for b in chosen}
    for b in chosen:
        for d in dents[b] & kept:
            up[d].add(b)
    near = [(frozenset(up[b]), frozenset(dents[b] & kept)) for b in chosen]
    groups = _group([boxes[b] for b in chosen], near)
    shown, where = [], {}
    for n, group in enumerate(groups):
        ids = [chosen[i] for i in group]
        hidden = set().union(*(behind[b] for b in ids))
        size = sum(len(boxes[k].members) for k in hidden)
        shown.append(replace(_join([boxes[b] for b in ids]), hidden=size))
        where.update(dict.fromkeys(ids, n))
    edges = sorted({(where[i], where[j]) for i in chosen for j in dents[i] & kept})
    counted = kept.union(*behind.values())
    others = sum(len(box.members) for i, box in enumerate(boxes) if i not in counted)
    return Picture(shown, edges, others, _direction(shown, edges, others))


def _behind(dents: list[set[int]], kept: set[int], start: int) -> set[int]:
    """The boxes not drawn that depend on `start`, directly or through others not drawn."""
    seen = {k for k in dents[start] if k not in kept}
    stack = list(seen)
    while stack:
        for k in dents[stack.pop()]:
            if k not in kept and k not in seen:
                seen.add(k)
                stack.append(k)
    return seen


def _choose(boxes: list[Box], dents: list[set[int]], seeds: list[int], budget: int) -> list[int]:
    """Boxes to draw: the heaviest seeds, then what depends on them nearest
    first (at most FANOUT under one box), then the other seeds."""
    drawn: list[int] = []
    seen: set[int] = set()
    queue: deque[int] = deque()

    def take(b: int) -> None:
        if b not in seen and len(drawn) < budget:
            seen.add(b)
            drawn.append(b)
            queue.append(b)

    def spread() -> None:
        while queue and len(drawn) < budget:
            b = queue.popleft()
            kids = sorted(dents[b] - seen, key=lambda k: (-len(dents[k]), boxes[k].members[0]))
            for kid in kids[:FANOUT]:
                take(kid)

    seeds = list(dict.fromkeys(seeds))
    heavy = [s for s in seeds if dents[s]]
    first = max(1, budget // 4)
    for s in heavy[:first]:
        take(s)
    spread()
    for s in heavy[first:] + [s for s in seeds if not dents[s]]:
        take(s)
        spread()
    # Make room for the "+N more" boxes, and keep the text legible.
    while len(drawn) > 1:
        kept = set(drawn)
        cut = {n for n, b in enumerate(drawn) if dents[b] - kept}
        index = {b: n for n, b in enumerate(drawn)}
        edges = [(index[i], index[j]) for i in drawn for j in dents[i] & kept]
        shown = [replace(boxes[b], hidden=int(n in cut)) for n, b in enumerate(drawn)]
        if len(drawn) + len(cut) <= budget and _narrowest(shown, edges, 0) <= MAX_WIDTH:
            break
        drawn.pop()
    return drawn


# -- layout: labels, and the direction by width ---------------------------------------------


def _short_module(module: str) -> str:
    """`module.app["us"].module.svc["web"]` → `app["us"].svc["web"]`."""
    try:
        return ".".join(name + format_key(key) for name, key in split(module)[1::2])
    except AddressError:
        return module


def _labels(boxes: Sequence[Box]) -> list[list[str]]:
    """Each box's label lines. Within one module the picture is framed and
    named after it; across several, a box's module is its label's first line."""
    if len({box.module for box in boxes}) == 1:
        return [[_cut(box.text)] for box in boxes]
    return [
        [_cut(_short_module(box.module)), _cut(box.text)] if box.module else [_cut(box.text)]
        for box in boxes
    ]


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
        out["others"] = f"{others} others not drawn"
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
    lines.extend(f'    k{k}["{mermaid_label(text)}"]' for k, text in enumerate(legend.values()))
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
    return draw(pr.graph, scope, kinds(pr.graph, scope), roots, GRAPH_NODES), scope


def comment_graph(pr: PlanReview, rows: Sequence[DestructiveRow]) -> tuple[str | None, int]:
    """The comment's mermaid picture and how many resources it is about; None
    when nothing in it is linked (the destructive table already says it all)."""
    pic, scope = comment_picture(pr, rows)
    if not pic.edges:
        return None, 0
    return pic.mermaid(), len(scope)
