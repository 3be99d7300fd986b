"""A work's lineage as a Graphviz DOT graph.

Pure functions of the API's answers (no Streamlit, no HTTP), so they are tested directly. The
royalty route of a payment through the lineage is the API's (GET /works/{id}/route, computed by
chain/routing.py, the rule's one statement in Python); the dashboard only draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from dashboard.schema import Lineage, LineageNode

COLOURS = {True: ("#d8f3dc", "#2d6a4f"), False: ("#ffd6d6", "#b00020"), None: ("#eeeeee", "#777777")}
"""Audit verdict → (fill, border): passed, failed, not audited (or the audit could not run)."""


def node_label(node: LineageNode, verdict: bool | None) -> str:
    """The text of a node: id, kind and status, then what else matters (machine-made, disputed)."""
    lines = [f"#{node['work_id']}", f"{node['kind']} · {node['status']}"]
    extra = [x for x, on in (("machine-made", node["model_made"]), ("disputed", node["disputed"])) if on]
    if node["community_id"] is not None:
        extra.append(f"community {node['community_id']}")
    if extra:
        lines.append(", ".join(extra))
    lines.append({True: "audit passed", False: "audit FAILED", None: "not audited"}[verdict])
    return "\\n".join(lines)


def ppm_label(ppm: int) -> str:
    """An edge label: the share of each payment to the child routed to the parent, `15% (150000 ppm)`."""
    pct = format((Decimal(ppm) / 10_000).normalize(), "f")
    return f"{pct}% ({ppm:,} ppm)"


def to_dot(lineage: Lineage, verdicts: Mapping[int, bool | None]) -> str:
    """DOT source of the lineage: an arrow from each work to each parent, labelled with its share.

    Royalties flow along the arrows, from the work that is paid up to the heritage roots; the
    selected work is drawn with a double border; colours give each node's audit verdict.
    """
    out = ["digraph lineage {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
           '  edge [fontname="Helvetica", fontsize=10, color="#555555"];']
    for node in lineage["nodes"]:
        verdict = verdicts.get(node["work_id"])
        fill, border = COLOURS[verdict]
        peripheries = 2 if node["work_id"] == lineage["work_id"] else 1
        out.append(f'  w{node["work_id"]} [label="{node_label(node, verdict)}", fillcolor="{fill}", color="{border}", '
                   f"peripheries={peripheries}];")
    out.extend(f'  w{e["child"]} -> w{e["parent"]} [label="{ppm_label(e["ppm"])}"];' for e in lineage["edges"])
    out.append("}")
    return "\n".join(out)
