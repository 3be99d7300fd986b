"""Overview: the catalogue and its communities, payments per community, and the latest simulation."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, results
from dashboard.client import ApiClient
from dashboard.schema import Community, Metrics
from dashboard.ui import api_session, eth, eth_float


def community_table(communities: list[Community], metrics: Metrics) -> pd.DataFrame:
    """One row per community: stewards, threshold, treasury, heritage works, ETH credited to its
    treasury after routing (net) and ETH paid to its lineage (gross)."""
    paid = metrics["paid_wei_by_community"]
    credited = metrics.get("credited_wei_by_community", {})
    return pd.DataFrame([{"id": c["community_id"], "community": c["name"], "heritage works": c["works"],
                          "stewards": len(c["stewards"]), "approvals needed": f"{c['threshold']} of {len(c['stewards'])}",
                          "treasury": c["treasury"], "credited, net (ETH)": eth(credited.get(str(c["community_id"]), "0")),
                          "paid to its lineage, gross (ETH)": eth(paid.get(str(c["community_id"]), "0"))}
                         for c in communities])


def show_catalogue(api: ApiClient) -> None:
    """Counts, the communities table and the payments bar chart."""
    metrics, communities = api.metrics(), api.communities()
    kinds = metrics["by_kind"]
    cols = st.columns(5)
    cols[0].metric("Communities", metrics["communities"])
    cols[1].metric("Works", metrics["works"])
    cols[2].metric("Heritage · restricted", f"{kinds.get('heritage', 0)} · {kinds.get('restricted', 0)}")
    cols[3].metric("Derivatives", kinds.get("derivative", 0))
    cols[4].metric("Paid", f"{eth(metrics['paid_wei'])} ETH", help=f"{metrics['payments']} payments")
    st.caption(f"As of block {metrics['index_block']} of the event index. Works by status: "
               + ", ".join(f"{k} {v}" for k, v in sorted(metrics["by_status"].items())) + ".")

    st.subheader("Communities")
    st.dataframe(community_table(communities, metrics), hide_index=True, width="stretch")

    st.subheader("Royalties per community, net")
    names = {str(c["community_id"]): c["name"] for c in communities}
    credited = metrics.get("credited_wei_by_community", {})
    bars = pd.DataFrame([{"community": names.get(k, f"community {k}"), "ETH": eth_float(v)}
                         for k, v in sorted(credited.items(), key=lambda kv: int(kv[0]))])
    st.altair_chart(charts.payments_chart(bars).properties(height=40 + 36 * len(bars)), width="stretch")
    st.caption("ETH the router credited each community's treasury after routing — what it can withdraw now plus "
               "what it has withdrawn — from every payment, statement and release. The table also shows the gross "
               "figure: everything paid to the community's works and their descendants before routing (a "
               "derivative of two communities counts for both).")


def show_latest_simulation(api: ApiClient) -> None:
    """Latency, fairness and Table 2 of the newest finished simulation."""
    st.header("Latest simulation")
    job = results.latest_done(api)
    if job is None:
        st.info("No simulation has finished yet: start one on the Simulation page.", icon=":material/science:")
        return
    st.markdown(results.caption(job))
    results.show_sections(api, job)


def main() -> None:
    st.title("Heritage Ledger")
    st.caption("Intangible-heritage music works, their derivatives and royalties, as recorded on the chain.")
    with api_session() as api:
        show_catalogue(api)
        show_latest_simulation(api)


main()
