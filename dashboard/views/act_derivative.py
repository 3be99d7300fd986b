"""Propose a derivative: upload it, name its parents and the share of each payment each receives,
say whether it is for commercial use; the page says whose consent it will need, and the creator
sends the registration from their wallet (POST /derivatives/drafts → wallet → POST /transactions)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import PPM
from dashboard.wallet import flow, words

with flow.page("derivative", "Propose a derivative", "Your arrangement, remix or model output, with its lineage: each "
               "parent receives its share of every payment, and each heritage root's protocol is checked on chain.") as p:
    api, relayed = p.api, p.relayed
    if relayed is not None and relayed.get("work_id"):
        st.write(f"Your derivative is work **#{relayed['work_id']}**, status **{relayed.get('status')}**.")
    if me := p.account():
        works = [x for x in api.all_works(status="active") if x["kind"] in ("heritage", "derivative")]
        parents = st.multiselect("Parents", works, format_func=lambda x: f"#{x['work_id']} {x['kind']}",
                                 max_selections=8)
        consent_from = sorted({f"work #{proto['work_id']}'s community" for p in parents
                               for proto in api.get(f"/works/{p['work_id']}/protocol") if proto["consent_required"]})
        if parents:
            st.caption("Needs consent from " + ", ".join(consent_from) if consent_from else "No consent needed.")
        with st.form("propose"):
            upload = st.file_uploader("Your work's file")
            title = st.text_input("Title")
            shares = {p["work_id"]: st.number_input(f"Share to #{p['work_id']} (%)", min_value=0.01, max_value=100.0,
                                                    value=20.0, key=f"share-{p['work_id']}") for p in parents}
            commercial = st.checkbox("For commercial use")
            submitted = st.form_submit_button("Prepare the registration")
        if submitted:
            if upload is None or not title.strip() or not parents:
                st.error("Choose the file, its parents and a title.")
                st.stop()
            stored = api.upload(upload.name, upload.getvalue(), upload.type)
            body = {"creator": me, "content_cid": stored["cid"], "title": title.strip(), "commercial": commercial,
                    "media_type": stored["media_type"],
                    "parents": [{"work_id": k, "ppm": int(v * PPM / 100)} for k, v in shares.items()]}
            draft = api.post("/derivatives/drafts", body)
            what = words.derivative(title=title.strip(), commercial=commercial, consent_from=consent_from,
                                    parents=[(k, int(v * PPM / 100), f"{k}") for k, v in shares.items()])
            p.send(draft["transaction"], what)
