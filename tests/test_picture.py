"""The impact picture (planguard.report.picture) on real plans.

Colours by action with a legend, count/for_each siblings collapsed, every cut
box carrying its count of hidden dependents (never a "+N more" alone), the
direction chosen by shape, hostile names kept inside their labels, and the
same text for the same plan.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest
from report_cases import generate
from update_snapshots import TODAY

from helpers import FIXTURES
from planguard.config import Config
from planguard.engine import review
from planguard.graph import DependencyGraph
from planguard.load import LoadOptions, load
from planguard.registry import all_checks
from planguard.report.common import destructive_rows
from planguard.report.picture import (
    GRAPH_NODES,
    LABEL_CHARS,
    LEGEND_TITLE,
    MAX_WIDTH,
    Picture,
    _width,
    collapse,
    comment_graph,
    comment_picture,
    draw,
    impacted_nodes,
    kinds,
    mermaid_label,
)
from planguard.review import PlanReview

NODE = re.compile(r'^ +([nk]\d+)\["(.*)"\]$', re.M)
CLASS = re.compile(r"^  class ([nk\d,]+) (\w+)$", re.M)


def plan_review(*paths: str, options: LoadOptions | None = None) -> PlanReview:
    plans = load([str(FIXTURES / p) for p in paths], options)
    return review(plans, all_checks(), Config(), today=TODAY).plans[0]


def cfn_pair(name: str) -> PlanReview:
    pairs = FIXTURES / "cloudformation" / "pairs"
    options = LoadOptions(
        before=[str(pairs / f"{name}-before.yaml")], after=[str(pairs / f"{name}-after.yaml")]
    )
    return review(load([], options), all_checks(), Config(), today=TODAY).plans[0]


def comment_text(pr: PlanReview) -> str:
    text, _ = comment_graph(pr, destructive_rows(pr))
    assert text is not None
    return text


def nodes(text: str) -> dict[str, str]:
    return dict(NODE.findall(text))


def classes(text: str) -> dict[str, str]:
    """Box or legend id → its class."""
    return {i: kind for ids, kind in CLASS.findall(text) for i in ids.split(",")}


def class_of(text: str, line: str) -> str:
    """The class of the one box with this line in its label."""
    [box] = [i for i, lab in nodes(text).items() if mermaid_label(line) in lab.split("<br>")]
    return classes(text)[box]


def legend(text: str) -> list[str]:
    """The legend's entries (their no-break spaces as spaces)."""
    block = text.split('  subgraph legend ["')[1].split("\n  end")[0]
    return [e.replace("#160;", " ") for e in re.findall(r'k\d+\["(.*)"\]', block)]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> PlanReview:
    """A 2,000-resource plan in modules (benchmarks/gen_plan.py): hubs, cuts."""
    path = tmp_path_factory.mktemp("picture") / "plan.json"
    if not generate(path, 2000):
        pytest.skip("benchmarks/gen_plan.py is not there")
    plans = load([str(path)])
    return review(plans, all_checks(), Config(), today=TODAY).plans[0]


# -- colours and legend -------------------------------------------------------------


def test_boxes_are_coloured_by_action() -> None:
    text = comment_text(plan_review("scenarios/sg-swap-cascade.json"))
    assert class_of(text, "aws_security_group.app") == "replaced"
    assert class_of(text, "aws_security_group_rule.admin_console") == "replaced"
    for dependent in ("aws_instance.app", "aws_lb.app", "aws_db_instance.app"):
        assert class_of(text, dependent) == "downstream"
    text = comment_text(cfn_pair("orders"))
    # A logical id is not a type: the type is the label's second line.
    assert "Database<br>AWS::RDS::DBInstance" in nodes(text).values()
    assert class_of(text, "LogsBucket") == "destroyed"
    assert class_of(text, "Database") == "replaced"
    assert class_of(text, "DbAlarm") == "downstream"


def test_every_box_has_a_class_with_a_style() -> None:
    text = comment_text(plan_review("scenarios/sg-swap-cascade.json"))
    ids = nodes(text)
    assert set(classes(text)) == set(ids)
    for kind in set(classes(text).values()):
        assert re.search(rf"^  classDef {kind} fill:#\w+,stroke:#\w+", text, re.M)


def test_the_legend_names_what_is_drawn() -> None:
    text = comment_text(plan_review("scenarios/sg-swap-cascade.json"))
    assert f'subgraph legend ["{mermaid_label(LEGEND_TITLE)}"]' in text
    assert legend(text) == ["replaced", "downstream"]
    # Each legend entry wears the colour it names.
    keys = {i: lab for i, lab in nodes(text).items() if i.startswith("k")}
    assert {classes(text)[i] for i in keys} == {"replaced", "downstream"}
    text = comment_text(plan_review("scenarios/incident-env-recreated.json"))
    assert legend(text) == ["destroyed"]


def test_the_full_graph_shows_what_is_not_affected() -> None:
    pr = plan_review("scenarios/incident-env-recreated.json")
    g = pr.graph
    text = draw(g, g.nodes, kinds(g, impacted_nodes(g))).mermaid()
    by_label = {label: classes(text)[i] for i, label in nodes(text).items()}
    assert by_label["env<br>aws_vpc.main"] == "destroyed"
    assert by_label["environment<br>aws_vpc.main"] == "unaffected"  # created
    assert by_label["aws_iam_role.web"] == "unaffected"  # depended on, not depending
    assert legend(text) == ["destroyed", "not affected"]


# -- siblings ------------------------------------------------------------------------


def test_count_siblings_with_the_same_neighbours_are_one_box() -> None:
    pr = plan_review("scenarios/incident-env-recreated.json")
    text = comment_text(pr)
    labels = set(nodes(text).values())
    assert mermaid_label("aws_subnet.private[0..2]\u00a0×3") in labels
    assert mermaid_label("aws_instance.web[0..2]\u00a0×3") in labels
    # 3 subnets x (3 instances, the ALB, the DB subnet group) were 15 arrows;
    # between boxes they are 3, and 9 arrows draw the whole module.
    arrows = re.findall(r"^ +n\d+ --> n\d+$", text, re.M)
    assert len(arrows) == 9
    assert len([i for i in nodes(text) if i.startswith("n")]) == 9


def test_siblings_join_only_with_the_same_neighbours_and_action(big: PlanReview) -> None:
    g = big.graph
    scope = set(g.nodes)
    boxes = collapse(g, scope, kinds(g, impacted_nodes(g)))
    joined = [box for box in boxes if len(box.members) > 1]
    assert joined
    assert sum(len(box.members) for box in boxes) == len(scope)
    for box in joined:
        first = box.members[0]
        deps = [d for d in g.dependencies(first) if d in scope]
        dents = [d for d in g.direct_dependents(first) if d in scope]
        for member in box.members[1:]:
            assert [d for d in g.dependencies(member) if d in scope] == deps
            assert [d for d in g.direct_dependents(member) if d in scope] == dents
    # for_each keys of one resource with different actions stay apart.
    pr = plan_review("scenarios/for-each-map.json")
    boxes = collapse(pr.graph, pr.graph.nodes, kinds(pr.graph, impacted_nodes(pr.graph)))
    backups = [b for b in boxes if 'aws_s3_bucket.this["backups"]' in b.members]
    assert backups[0].members == ('aws_s3_bucket.this["backups"]',)


# -- the bound: cut boxes carry their hidden count --------------------------------------


def test_every_cut_box_carries_its_count_of_hidden_dependents(big: PlanReview) -> None:
    rows = destructive_rows(big)
    pic, scope = comment_picture(big, rows)
    g = big.graph
    drawn = {m for box in pic.boxes for m in box.members}
    cut = [box for box in pic.boxes if box.hidden]
    assert cut and pic.others
    behind: set[str] = set()
    for box in pic.boxes:
        below = {d for m in box.members for d in g.dependents(m)}
        assert below <= scope
        if any(d not in drawn for m in box.members for d in g.direct_dependents(m)):
            # Cut: "+N more" counts what depends on it, directly or not, undrawn.
            assert box.hidden == len(below - drawn), box.members
        else:
            assert box.hidden == 0
        behind |= below - drawn
    # The legend counts the destroyed or replaced resources not drawn and
    # not behind a drawn box.
    roots = {row.change.address for row in rows}
    assert pic.others == len(roots - drawn - behind) > 0
    text = pic.mermaid()
    assert len(re.findall(r'^ +n\d+\["', text, re.M)) <= GRAPH_NODES
    more = re.findall(r'^ +(n\d+)\["#43;(\d+) more"\]$', text, re.M)
    assert len(more) == len(cut)
    for box_id, count in more:
        # Each "+N more" hangs off exactly one drawn box, which it counts.
        [owner] = re.findall(rf"^ +(n\d+) -\.-> {box_id}$", text, re.M)
        assert pic.boxes[int(owner[1:])].hidden == int(count)
    assert f"{pic.others} more destroyed or replaced" in legend(text)
    assert "+N: dependents not drawn" in [e.replace("#43;", "+") for e in legend(text)]


def test_a_hub_with_many_siblings_is_drawn_whole(tmp_path: Path) -> None:
    """One VPC replaced under 1,500 instances and 1,500 destroyed buckets:
    two boxes of siblings, nothing cut."""
    from report_cases import write_big_plan

    path = tmp_path / "hub.json"
    write_big_plan(path)
    pr = review(load([str(path)]), all_checks(), Config(), today=TODAY).plans[0]
    pic, scope = comment_picture(pr, destructive_rows(pr))
    assert [box.text for box in pic.boxes] == [
        "aws_vpc.main",
        "aws_instance.app[0..1499]\u00a0×1500",
        "aws_s3_bucket.data[*]\u00a0×1500",
    ]
    assert pic.edges == [(0, 1)]
    assert not any(box.hidden for box in pic.boxes) and pic.others == 0
    assert len(scope) == 3001


# -- layout ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "direction"),
    [
        (("scenarios/sg-swap-cascade.json",), "LR"),  # one group, five dependents
        (("scenarios/incident-env-recreated.json",), "TB"),  # four ranks deep
        (("scenarios/vpc-delete.json",), "TB"),
    ],
)
def test_direction_follows_the_shape(paths: tuple[str, ...], direction: str) -> None:
    pic, _ = comment_picture(pr := plan_review(*paths), destructive_rows(pr))
    assert pic.direction == direction
    assert f"    direction {direction}" in pic.mermaid()
    chosen = _width(pic.boxes, pic.edges, pic.others, direction)
    other = _width(pic.boxes, pic.edges, pic.others, "TB" if direction == "LR" else "LR")
    assert chosen <= other or chosen <= MAX_WIDTH * 0.8


def test_several_modules_put_the_module_on_the_first_line() -> None:
    text = comment_text(plan_review("scenarios/nested-modules.json"))
    labels = set(nodes(text).values())
    assert "platform.network<br>aws_vpc.this" in labels
    assert "aws_route53_zone.internal" in labels  # the root module has no line
    assert "subgraph m0" not in text
    # One module: a frame named after it, labels without it.
    text = comment_text(plan_review("scenarios/incident-env-recreated.json"))
    assert '    subgraph m0 ["module.env"]' in text
    assert "aws_vpc.main" in nodes(text).values()


# -- hostile names, determinism --------------------------------------------------------------


def test_hostile_names_stay_inside_their_labels() -> None:
    pr = plan_review("report/crafted-names.json")
    pic, _ = comment_picture(pr, destructive_rows(pr))
    text = pic.mermaid()
    for label in nodes(text).values():
        for line in label.split("<br>"):
            assert re.fullmatch(r"(?:[A-Za-z0-9 _.\-/:\[\]]|#\d+;)*", line), line
    assert "<b>" not in text and "@admin" not in text and "<!--" not in text
    for lines in pic.labels():
        assert all(len(line) <= LABEL_CHARS for line in lines)


def test_same_plan_same_picture() -> None:
    pr = plan_review("scenarios/incident-env-recreated.json")
    first = comment_text(pr)
    assert comment_text(plan_review("scenarios/incident-env-recreated.json")) == first
    # Input order does not matter either.
    g = pr.graph
    plan = g.plan
    shuffled = msgspec.structs.replace(plan, changes=plan.changes[::-1], edges=plan.edges[::-1])
    g2 = DependencyGraph(shuffled)
    a = draw(g, g.nodes, kinds(g, impacted_nodes(g))).mermaid()
    b = draw(g2, g2.nodes, kinds(g2, impacted_nodes(g2))).mermaid()
    assert a == b


def test_big_picture_is_deterministic(big: PlanReview) -> None:
    first = comment_text(big)
    assert comment_text(big) == first


def test_nothing_to_draw() -> None:
    pr = plan_review("scenarios/tag-only.json")
    assert comment_graph(pr, destructive_rows(pr)) == (None, 0)
    pic = draw(pr.graph, [], {})
    assert isinstance(pic, Picture) and pic.mermaid().splitlines()[1:] == ["flowchart TB"]
