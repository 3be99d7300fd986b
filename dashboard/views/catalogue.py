"""Catalogue: the works, filtered by kind, status and community and paged; one work's content
(played when it is audio, shown when it is a score, offered as a download otherwise) and manifest."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.client import ApiClient
from dashboard.schema import Community, Work, WorkPage
from dashboard.ui import api_session, eth, played, short, when

ANY = "any"
KINDS = (ANY, "heritage", "restricted", "derivative")
STATUSES = (ANY, "active", "pending", "restricted", "rejected")
PAGE_SIZES = (10, 25, 50, 100)


def first_page() -> None:
    """Back to page 1 when a filter changes (the old page may not exist any more)."""
    st.session_state["catalogue_page"] = 1


def filtered_page(api: ApiClient, communities: list[Community]) -> WorkPage:
    """The filter widgets, the pager, and the page of works they select."""
    names = {c["community_id"]: c["name"] for c in communities}
    kind_col, status_col, community_col, size_col, page_col = st.columns([1, 1, 2, 1, 1])
    kind = kind_col.selectbox("Kind", KINDS, key="catalogue_kind", on_change=first_page)
    status = status_col.selectbox("Status", STATUSES, key="catalogue_status", on_change=first_page)
    community = community_col.selectbox("Community (works of, or descending from)", [None, *names], key="catalogue_community",
                                        on_change=first_page, format_func=lambda c: ANY if c is None else f"{c} · {names[c]}")
    size: int = size_col.selectbox("Per page", PAGE_SIZES, index=1, key="catalogue_size", on_change=first_page)

    def fetch(offset: int, limit: int) -> WorkPage:
        return api.works(kind=None if kind == ANY else kind, status=None if status == ANY else status, community=community,
                         offset=offset, limit=limit)

    pages = max(1, math.ceil(fetch(0, 1)["total"] / size))
    if st.session_state.get("catalogue_page", 1) > pages:
        first_page()
    st.session_state.setdefault("catalogue_page", 1)
    page = int(page_col.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="catalogue_page"))
    return fetch((page - 1) * size, size)


def works_table(works: list[Work], names: dict[int, str]) -> pd.DataFrame:
    """The page's works, one row each."""
    return pd.DataFrame([{"id": w["work_id"], "kind": w["kind"], "status": w["status"],
                          "community": names.get(w["community_id"], "—") if w["community_id"] else "—",
                          "parents": ", ".join(f"#{p}" for p in w["parents"]) or "—",
                          "machine-made": w["model_cid"] is not None, "disputed": w["disputed"], "payments": w["payments"],
                          "paid (ETH)": eth(w["paid_wei"]), "registered": when(w["timestamp"]), "content": short(w["content_cid"])}
                         for w in works])


def show_content(api: ApiClient, work: Work) -> None:
    """The work's content: a player for audio, the text of a score, a download for the rest."""
    cid = work["content_cid"]
    if not cid:
        st.info("Restricted work: its content is not public (only a salted commitment is on the chain).")
        return
    content, kind = played(api, cid, shown=cid)
    if kind.presentation == "score":
        st.code(content.data.decode("utf-8", errors="replace"), language=None, height=260)
    else:
        st.info(f"{kind.media_type} does not play in the browser: download it and open it in a music program.")
    st.download_button("Download the content", content.data, file_name=f"work-{work['work_id']}{kind.extension}",
                       mime=kind.media_type, key=f"download_{work['work_id']}", icon=":material/download:")


def show_work(api: ApiClient, works: list[Work]) -> None:
    """One work of the page: its content, its manifest, and a link to its lineage."""
    by_id = {w["work_id"]: w for w in works}
    work_id: int = st.selectbox("Work", list(by_id), key="catalogue_work",
                                format_func=lambda i: f"#{i} · {by_id[i]['kind']} · {by_id[i]['status']}")
    detail = api.work(work_id)
    manifest = detail["manifest"]
    st.subheader(f"#{work_id} {(manifest or {}).get('title') or '(no public title)'}")
    content, facts = st.columns([3, 2])
    with content:
        show_content(api, by_id[work_id])
    with facts:
        if manifest is None:
            st.info("No public manifest for this work.")
        else:
            st.json(manifest, expanded=1)
        st.page_link("views/provenance.py", label="Lineage and audit", icon=":material/account_tree:",
                     query_params={"work": str(work_id)})


def main() -> None:
    st.title("Catalogue")
    with api_session() as api:
        communities = api.communities()
        page = filtered_page(api, communities)
        st.caption(f"{page['total']} works match; showing {len(page['items'])} from #{page['offset'] + 1} "
                   f"(index block {page['index_block']}).")
        if not page["items"]:
            st.info("No work matches these filters: choose 'any' in one of them.")
            return
        names = {c["community_id"]: c["name"] for c in communities}
        st.dataframe(works_table(page["items"], names), hide_index=True, width="stretch")
        show_work(api, page["items"])


main()
