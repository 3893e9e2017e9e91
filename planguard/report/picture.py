"""The impact picture: a mermaid flowchart a reviewer can read at comment width.

Arrows point from a resource to what depends on it, the way a destroy
spreads (the same direction in every graph format). Boxes are coloured by
what happens to them, with a legend. count/for_each siblings with the same
neighbours are one box (`aws_instance.web[0..11] ×12`): nothing is lost, each
sibling had the same arrows. When the picture is bounded (the PR comment), a
box whose dependents are not all drawn carries a dotted "+N more" box, so a
cut never looks like a leaf. The direction (LR or TD) is the one the layout
needs less width for: GitHub scales a picture down to the comment column
(~880 px), and its text with it.

Labels are user-controlled: `mermaid_label` entity-codes everything but a few
safe characters, so no name can end a label, a line or the block.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planguard.load.tfaddr import AddressError, Key, split
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
# Mermaid's box is about 8.2 px a character of 16 px text, plus padding.
CHAR_PX, BOX_PX, GAP_PX, RANK_PX, CLUSTER_PX = 8.2, 34, 24, 40, 40

LEGEND = {
    "destroyed": "destroyed",
    "replaced": "replaced",
    "downstream": "downstream",
    "unaffected": "not affected",
}
# Fixed text only. Explicit text colours keep labels readable in GitHub's dark
# theme too; clusters have no fill, so the theme's arrows stay visible on them.
STYLES = {
    "destroyed": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#1f2328",
    "replaced": "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,stroke-dasharray:6 3,color:#1f2328",
    "downstream": "fill:#ddf4ff,stroke:#0969da,color:#1f2328",
    "unaffected": "fill:#f6f8fa,stroke:#8c959f,color:#1f2328",
    "more": "fill:#ffffff,stroke:#8c959f,stroke-dasharray:3 3,color:#59636e",
}
CLUSTER_STYLE = "fill:none,stroke:#8c959f"
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


@dataclass
class Box:
    """One drawn node: a resource, or count/for_each siblings with the same neighbours."""

    members: tuple[str, ...]
    module: str  # the module instance it is drawn in ("" at the root)
    label: str  # plain text; escaped when written
    kind: str
    hidden: int = 0  # resources behind it (its dependents, and theirs) not drawn


def _parts(graph: DependencyGraph, address: str) -> tuple[str, str, str, Key]:
    """(module, the address within it, that without its instance key, the key)."""
    res = graph.plan.resources.get(address)
    module = res.module if res is not None else ""
    if not module or not address.startswith(module + "."):
        module = ""
    local = address[len(module) + 1 :] if module else address
    try:
        steps = split(local)
    except AddressError:
        return module, local, local, None
    if any(key is not None for _, key in steps[:-1]):
        return module, local, local, None
    return module, local, ".".join(name for name, _ in steps), steps[-1][1]


def _group_label(base: str, keys: list[Key]) -> str:
    count = f"\u00a0×{len(keys)}"  # no-break space: the count never wraps alone
    ints = sorted(k for k in keys if isinstance(k, int))
    if len(ints) == len(keys) and ints[-1] - ints[0] == len(ints) - 1:
        return f"{base}[{ints[0]}..{ints[-1]}]{count}"
    return f"{base}[*]{count}"


def collapse(graph: DependencyGraph, scope: Iterable[str], kind: dict[str, str]) -> list[Box]:
    """The boxes for `scope`: siblings with the same neighbours in scope become one."""
    inside = set(scope)
    groups: dict[tuple[object, ...], list[tuple[str, str, str, Key]]] = {}
    for address in sorted(inside):
        module, local, base, key = _parts(graph, address)
        sig: tuple[object, ...] = (address,)
        if key is not None:
            deps = tuple(d for d in graph.dependencies(address) if d in inside)
            dents = tuple(d for d in graph.direct_dependents(address) if d in inside)
            sig = (module, base, kind[address], deps, dents)
        groups.setdefault(sig, []).append((address, module, local, key))
    boxes = []
    for members in groups.values():
        address, module, local, _ = members[0]
        if len(members) > 1:
            _, _, base, _ = _parts(graph, address)
            local = _group_label(base, [m[3] for m in members])
        boxes.append(Box(tuple(m[0] for m in members), module, _cut(local), kind[address]))
    return boxes


@dataclass
class Picture:
    boxes: list[Box]
    edges: list[tuple[int, int]]  # (box of the dependency, box of the dependent)
    others: int = 0  # in scope, neither drawn nor counted behind a drawn box
    direction: str = "LR"
    modules: list[str] = field(default_factory=list)

    def member_edges(self) -> set[tuple[str, str]]:
        """The drawn arrows between resources: (dependency, dependent)."""
        return {
            (a, b)
            for i, j in self.edges
            for a in self.boxes[i].members
            for b in self.boxes[j].members
        }

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
        chosen = list(range(len(boxes)))
    else:
        chosen = _choose(boxes, dents, [box_of[r] for r in roots if r in box_of], budget)
    others = _count_hidden(boxes, dents, chosen)
    index = {b: n for n, b in enumerate(chosen)}
    edges = sorted((index[i], index[j]) for i in chosen for j in dents[i] if j in index)
    shown = [boxes[i] for i in chosen]
    return Picture(shown, edges, others, _direction(shown, edges, others))


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
        edges = [(index[i], index[j]) for i in drawn for j in dents[i] if j in index]
        shown = [boxes[b] for b in drawn]
        legend = _legend(shown, 0, bool(cut))
        narrowest = min(_width(shown, edges, legend, way, cut) for way in ("LR", "TD"))
        if len(drawn) + len(cut) <= budget and narrowest <= MAX_WIDTH:
            break
        drawn.pop()
    return drawn


def _count_hidden(boxes: list[Box], dents: list[set[int]], chosen: list[int]) -> int:
    """Set each chosen box's hidden count; return what no chosen box accounts for."""
    kept = set(chosen)
    counted: set[int] = set()
    for b in chosen:
        seen: set[int] = set()
        stack = [k for k in dents[b] if k not in kept]
        seen.update(stack)
        while stack:
            for k in dents[stack.pop()]:
                if k not in kept and k not in seen:
                    seen.add(k)
                    stack.append(k)
        boxes[b].hidden = sum(len(boxes[k].members) for k in seen)
        counted |= seen
    counted |= kept
    return sum(len(box.members) for i, box in enumerate(boxes) if i not in counted)


# -- layout: direction by width ----------------------------------------------------


def _box_px(label: str) -> float:
    return CHAR_PX * len(label) + BOX_PX


def _more_label(box: Box) -> str:
    return f"+{box.hidden} more"


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


def _width(
    boxes: list[Box],
    edges: Sequence[tuple[int, int]],
    legend: dict[str, str],
    way: str,
    cut: set[int],
) -> float:
    """The picture's natural width in px, roughly as mermaid lays it out;
    the boxes in `cut` carry a "+N more" box."""
    rank = _layers(len(boxes), edges)
    linked = {n for e in edges for n in e}
    layers: dict[int, list[float]] = {}
    for n, box in enumerate(boxes):
        # Unlinked boxes end up in a row (or column) of their own.
        layer = rank[n] if n in linked else -2
        layers.setdefault(layer, []).append(_box_px(box.label))
        if n in cut:
            layers.setdefault(layer + 1, []).append(_box_px("+999 more"))
    if way == "LR":
        main = sum(max(ws) for ws in layers.values()) + RANK_PX * (len(layers) - 1)
    else:
        main = max((sum(ws) + GAP_PX * (len(ws) - 1) for ws in layers.values()), default=0)
    if any(box.module for box in boxes):
        main += CLUSTER_PX
    row = sum(_box_px(text) + GAP_PX for text in legend.values())
    return max(main, row, _box_px(LEGEND_TITLE))


def _direction(boxes: list[Box], edges: Sequence[tuple[int, int]], others: int) -> str:
    legend = _legend(boxes, others, any(box.hidden for box in boxes))
    cut = {n for n, box in enumerate(boxes) if box.hidden}
    lr = _width(boxes, edges, legend, "LR", cut)
    td = _width(boxes, edges, legend, "TD", cut)
    # Left to right reads like the cascade it is; top-down when that is
    # narrower and left to right would be scaled down in the comment.
    return "TD" if lr > MAX_WIDTH * 0.8 and td < lr else "LR"


# -- mermaid -------------------------------------------------------------------------


def _legend(boxes: list[Box], others: int, cut: bool) -> dict[str, str]:
    """Class → legend text, for what the picture shows."""
    used = {box.kind for box in boxes}
    out = {kind: text for kind, text in LEGEND.items() if kind in used}
    if cut:
        out["more"] = "+N more: dependents not drawn"
    if others:
        out["others"] = f"{others} more not drawn"
    return out


def _mermaid(pic: Picture) -> str:
    inner = "TB" if pic.direction == "TD" else "LR"
    lines = [INIT, f"flowchart {pic.direction}"]
    if not pic.boxes:
        return "\n".join(lines) + "\n"
    more: dict[int, str] = {}
    n_more = len(pic.boxes)
    for n, box in enumerate(pic.boxes):
        if box.hidden:
            more[n] = f"n{n_more}"
            n_more += 1
    modules = list(dict.fromkeys(box.module for box in pic.boxes))
    clusters: list[str] = []
    for module in modules:
        pad = "    " if module else "  "
        if module:
            clusters.append(f"m{len(clusters)}")
            lines.append(f'  subgraph {clusters[-1]} ["{mermaid_label(_cut(module))}"]')
            lines.append(f"    direction {inner}")
        for n, box in enumerate(pic.boxes):
            if box.module == module:
                lines.append(f'{pad}n{n}["{mermaid_label(box.label)}"]')
                if n in more:
                    lines.append(f'{pad}{more[n]}["{mermaid_label(_more_label(box))}"]')
        if module:
            lines.append("  end")
    lines.extend(f"  n{a} --> n{b}" for a, b in pic.edges)
    lines.extend(f"  n{n} -.-> {m}" for n, m in more.items())
    legend = _legend(pic.boxes, pic.others, bool(more))
    lines.append(f'  subgraph legend ["{mermaid_label(LEGEND_TITLE)}"]')
    lines.append("    direction TB")  # one row, whichever way the picture runs
    for k, text in enumerate(legend.values()):
        lines.append(f'    k{k}["{mermaid_label(text)}"]')
    lines.append("  end")
    if pic.direction == "TD":
        # Below the picture, not beside it (which would widen it).
        lines.append(f"  n{_lowest(pic)} ~~~ legend")
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
    lines.extend(f"  style {c} {CLUSTER_STYLE}" for c in [*clusters, "legend"])
    return "\n".join(lines) + "\n"


def _lowest(pic: Picture) -> int:
    rank = _layers(len(pic.boxes), pic.edges)
    return max(range(len(pic.boxes)), key=lambda n: (rank[n], -n))


# -- the PR comment's picture ----------------------------------------------------------


def comment_graph(pr: PlanReview, rows: Sequence[DestructiveRow]) -> tuple[str | None, int]:
    """A mermaid flowchart of what is destroyed or replaced and what depends on
    it, and how many resources that is in all; None when nothing in it is linked
    (the destructive table already says it all).

    It grows from the destroyed or replaced resources with the most dependents,
    at most GRAPH_NODES boxes.
    """
    order = sorted(range(len(rows)), key=lambda i: (-rows[i].downstream, i))
    roots = list(dict.fromkeys(rows[i].change.address for i in order))
    roots = [a for a in roots if a in pr.graph]
    scope = set(roots)
    for address in roots:
        impact = pr.impacts.get(address)
        if impact is not None:
            scope.update(impact.dependents)
    kind = {a: "downstream" for a in scope}
    kind.update(kinds_of_roots(pr.graph, roots))
    pic = draw(pr.graph, scope, kind, roots, GRAPH_NODES)
    if not pic.edges:
        return None, 0
    return pic.mermaid(), len(scope)


def kinds_of_roots(graph: DependencyGraph, roots: Iterable[str]) -> dict[str, str]:
    acts = actions(graph)
    return {
        a: "replaced" if acts.get(a) is Action.REPLACE else "destroyed"
        for a in roots
        if acts.get(a) in DESTRUCTIVE
    }
