"""The Heritage Ledger dashboard: `streamlit run dashboard/app.py`.

It reads the platform through its HTTP API only (`HERITAGE_API_URL`, default
http://127.0.0.1:8000); start one with `heritage api --data-dir DIR`.
"""

from __future__ import annotations

import streamlit as st

from dashboard.client import ApiClient, ApiError, api_url


def pages() -> list[st.Page]:
    """The pages, in menu order; paths are relative to this file."""
    return [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/provenance.py", title="Provenance explorer", icon=":material/account_tree:"),
        st.Page("views/catalogue.py", title="Catalogue", icon=":material/library_music:"),
        st.Page("views/simulation.py", title="Simulation", icon=":material/science:"),
        st.Page("views/piece.py", title="Piece", icon=":material/graphic_eq:"),
        st.Page("views/listening.py", title="Listening room", icon=":material/headphones:"),
        st.Page("views/ledger.py", title="Real ledger", icon=":material/receipt_long:"),
    ]


def wallet_pages() -> list[st.Page]:
    """The pages that act through the user's own browser wallet (dashboard/wallet/)."""
    return [
        st.Page("views/act_community.py", title="Register a community", icon=":material/groups:", url_path="act-community"),
        st.Page("views/act_work.py", title="Register a work", icon=":material/upload_file:", url_path="act-work"),
        st.Page("views/act_restricted.py", title="Register a restricted work", icon=":material/lock:",
                url_path="act-restricted"),
        st.Page("views/act_steward.py", title="Steward's queue", icon=":material/how_to_vote:", url_path="act-steward"),
        st.Page("views/act_derivative.py", title="Propose a derivative", icon=":material/call_split:", url_path="act-derivative"),
        st.Page("views/act_pay.py", title="Pay and withdraw", icon=":material/payments:", url_path="act-pay"),
        st.Page("views/act_claim.py", title="Raise a claim", icon=":material/gavel:", url_path="act-claim"),
        st.Page("views/studio.py", title="Studio", icon=":material/piano:", url_path="studio"),
        st.Page("views/account.py", title="My account", icon=":material/account_circle:", url_path="account"),
    ]


def check_page() -> st.Page:
    """The auditor's check of any file (its CID computed in the dashboard)."""
    return st.Page("views/check_file.py", title="Check a file", icon=":material/fact_check:", url_path="check-file")


def sidebar_status() -> None:
    """Which API the dashboard reads, and whether it answers (the pages say what to do when not)."""
    url = api_url()
    try:
        with ApiClient(url, timeout=5) as api:
            health = api.health()
    except ApiError:
        st.sidebar.error(f"API {url} is not answering", icon=":material/cloud_off:")
        return
    mode = " · demo mode" if health["demo"] else ""
    st.sidebar.success(f"API {url}\n\nchain {health['chain_id']} · block {health['index_block']}{mode}",
                       icon=":material/cloud_done:")


def main() -> None:
    st.set_page_config(page_title="Heritage Ledger", page_icon=":material/library_music:", layout="wide")
    page = st.navigation({"Explore": [*pages(), check_page()], "With your wallet": wallet_pages()}, expanded=True)
    sidebar_status()
    page.run()


main()
