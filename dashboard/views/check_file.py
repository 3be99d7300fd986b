"""The auditor's check from a file: drop any file, see its CID (Kubo-identical, computed by the API
without storing the file: POST /content/cid), the work registered with that content, and the
work's audit from its content to the chain (GET /works/{id}/audit)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import when
from dashboard.wallet import flow

st.title("Check a file")
st.caption("Is this recording or score registered, by whom, and does its record hold? The file is not stored: only "
           "its CID is computed and looked up.")
dropped = st.file_uploader("Any file")
typed = st.text_input("Or a CID", placeholder="bafk…")
with flow.session() as api:
    cid = api.cid(dropped.name, dropped.getvalue(), dropped.type)["cid"] if dropped is not None else typed.strip()
    if cid:
        st.markdown(f"CID `{cid}`")
        work = next((w for w in api.all_works() if w["content_cid"] == cid), None)
        if work is None:
            st.warning("No work on this platform has this content. (A restricted work publishes only a salted "
                       "commitment, so its content cannot be matched here.)", icon=":material/search_off:")
            st.stop()
        detail = api.work(work["work_id"])
        title = (detail["manifest"] or {}).get("title", "untitled")
        st.subheader(f"Work #{work['work_id']}: {title}")
        st.write(f"{work['kind']} · {work['status']} · registered by {work['registrant']} on {when(work['timestamp'])} "
                 f"(block {work['block']})")
        audit = api.audit(work["work_id"])
        (st.success if audit["ok"] else st.error)("Audit passed" if audit["ok"] else "Audit failed",
                                                  icon=":material/verified:" if audit["ok"] else ":material/gpp_bad:")
        st.dataframe([{"check": c["check"], "ok": c["ok"], "detail": c["detail"]} for c in audit["checks"]], hide_index=True)
