"""Provenance explorer: a work's lineage up to its heritage roots, audited node by node, with the
royalty route of a payment through it and the work's record, manifest and protocol."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import streamlit as st

from dashboard.client import ApiClient, ApiProblem
from dashboard.lineage import to_dot
from dashboard.picker import pick_work
from dashboard.schema import Audit, Lineage, Route, Work, WorkDetail
from dashboard.ui import WEI_PER_ETH, api_session, eth, when

# An audit, or why it could not be made (the page goes on without that node's verdict). No bare
# string literals in a page script: Streamlit's "magic" would print them on the page.
AuditResult = Audit | str


@st.cache_data(ttl=60, show_spinner="Auditing the lineage from content to chain…")
def audits(base_url: str, ids: tuple[int, ...]) -> dict[int, AuditResult]:
    """The audit of each work (four at a time: each reads the chain and the content store)."""
    def one(api: ApiClient, work_id: int) -> AuditResult:
        try:
            return api.audit(work_id)
        except ApiProblem as err:
            return str(err)

    with ApiClient(base_url) as api, ThreadPoolExecutor(4) as pool:
        return dict(zip(ids, pool.map(lambda w: one(api, w), ids), strict=True))


def default_work(works: list[Work]) -> int:
    """The work to show when the URL names none: the derivative with the most roots."""
    return max(works, key=lambda w: (w["kind"] == "derivative", len(w["roots"]), w["work_id"]))["work_id"]


def show_graph(lineage: Lineage, results: dict[int, AuditResult]) -> None:
    """The lineage as a graph: arrows from each work to its parents, labelled with their share."""
    verdicts = {w: (r["ok"] if not isinstance(r, str) else None) for w, r in results.items()}
    st.graphviz_chart(to_dot(lineage, verdicts), width="stretch")
    st.caption("Arrows point from a work to its parents, labelled with the share of every payment routed up them. "
               "Green: audit passed; red: audit failed; grey: not audited. Double border: the selected work.")
    for work_id, result in results.items():
        if isinstance(result, str):
            st.warning(f"Work #{work_id} could not be audited: {result}")


def show_route(route: Route) -> None:
    """Where 1 ETH paid to the work ends up, by the router's rule, and what each model's training set
    passes on to its communities (the API computes both)."""
    st.markdown(f"**Royalty route** of 1 ETH paid to #{route['work_id']}")
    st.dataframe(pd.DataFrame([{"work": f"#{s['work_id']}", "receives (ETH)": eth(s["received_wei"]),
                                "keeps (ETH)": eth(s["kept_wei"])} for s in route["shares"]]),
                 hide_index=True, width="stretch")
    for t in route.get("training_sets", []):
        st.markdown(f"**Training set of model #{t['model']}**: {t['works']} works; of the {eth(t['kept_wei'])} ETH the "
                    f"model keeps, {eth(t['set_wei'])} ETH goes to its training set, paid to each community by its "
                    "count of works")
        st.table(pd.DataFrame([{"community": f"#{c['community_id']}", "works in the set": c["works"],
                                "share of the set": f"{c['works'] / t['works']:.0%}",
                                "receives (ETH)": eth(c["received_wei"])} for c in t["communities"]]).set_index("community"))


def show_audit(result: AuditResult) -> None:
    """The audit's verdict and its checks."""
    if isinstance(result, str):
        st.warning(result)
        return
    if result["ok"]:
        st.success(f"Audit passed: {len(result['checks'])} checks from the stored content to the chain.")
    else:
        st.error("Audit failed: " + "; ".join(c["check"] for c in result["checks"] if not c["ok"]))
    st.dataframe(pd.DataFrame([{"check": c["check"], "passed": c["ok"], "detail": c["detail"]} for c in result["checks"]]),
                 hide_index=True, width="stretch")


def show_details(work: WorkDetail, result: AuditResult) -> None:
    """The on-chain record, the manifest and what the protocol says, in tabs."""
    record, manifest, protocol = st.tabs(["On-chain record", "Manifest", "Protocol"])
    with record:
        rows = {"kind": work["kind"], "status": work["status"], "registrant": work["registrant"],
                "registered": f"block {work['block']}, {when(work['timestamp'])}", "content CID": work["content_cid"] or "—",
                "manifest CID": work["manifest_cid"] or "—", "model CID": work["model_cid"] or "— (made by a person)",
                "parents": ", ".join(f"#{p} ({ppm:,} ppm)" for p, ppm in zip(work["parents"], work["parent_ppms"], strict=True)) or "—",
                "heritage roots": ", ".join(f"#{r}" for r in work["roots"]) or "—",
                "communities": ", ".join(str(c) for c in work["communities"]) or "—",
                "commercial use": "yes" if work["commercial"] else "no", "disputed": "yes" if work["disputed"] else "no",
                "payments": f"{work['payments']} ({eth(work['paid_wei'])} ETH)"}
        st.table(pd.DataFrame({"value": [str(v) for v in rows.values()]}, index=list(rows)))
    with manifest:
        if work["manifest"] is None:
            st.info("No readable manifest: restricted works publish only a salted commitment; otherwise see the audit.")
        else:
            st.json(work["manifest"], expanded=2)
    with protocol:
        show_protocol(work, result)


def show_protocol(work: WorkDetail, result: AuditResult) -> None:
    """The cultural protocol as far as the record, the manifest and the audit show it."""
    m = work["manifest"] or {}
    labels = [f"{label.get('id')} (v{label.get('version')})" for label in m.get("labels", []) if isinstance(label, dict)]
    st.markdown(f"**Local Contexts labels:** {', '.join(labels) if labels else 'none declared'}")
    if m.get("restrictions"):
        st.markdown(f"**Conditions of use, in the community's words:** {m['restrictions']}")
    if work["kind"] == "restricted":
        st.markdown("**Restricted** (secret/sacred): only a salted hash commitment is public; no derivatives.")
    st.markdown(f"**Commercial use of this work:** {'allowed' if work['commercial'] else 'not allowed'}")
    if not isinstance(result, str):
        for check in result["checks"]:
            if check["check"] == "protocols":
                st.markdown(f"**Ancestors' protocols:** {check['detail']} ({'honoured' if check['ok'] else 'VIOLATED'})")
    st.caption("The protocol's rules (derivatives, consent, machine-learning use, the community's floor share) are "
               "enforced by the registry when a derivative is registered.")


def main() -> None:
    st.title("Provenance explorer")
    with api_session() as api:
        picked = pick_work(api, key="provenance_work", default=default_work)
        if picked is None:
            return
        work_id = picked["work_id"]
        work, lineage = api.work(work_id), api.lineage(work_id)
        results = audits(api.base_url, tuple(n["work_id"] for n in lineage["nodes"]))
        title = (work["manifest"] or {}).get("title") or "(no public title)"
        st.header(f"#{work_id} {title}")
        graph, side = st.columns([3, 2])
        with graph:
            show_graph(lineage, results)
        with side:
            show_audit(results[work_id])
            show_route(api.route(work_id, WEI_PER_ETH))
        show_details(work, results[work_id])


main()
