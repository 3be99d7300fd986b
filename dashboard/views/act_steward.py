"""The steward's queue: derivatives of the community's works awaiting consent, each approved or
refused with an EIP-712 signature in the wallet (…/approvals/drafts or …/rejections/drafts →
wallet → relay); and a heritage work's protocol changed the same way (…/protocol/drafts)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import PPM, percent, short
from dashboard.wallet import flow, words

PAGE = "steward"
FLAGS = (("derivatives_allowed", "Derivatives allowed"), ("consent_required", "Each derivative needs consent"),
         ("commercial_allowed", "Commercial use allowed"), ("ml_allowed", "Machine-learning use allowed"),
         ("attribution_required", "Attribution required"))

st.title("Steward's queue")
st.caption("Derivatives that need your community's consent. Your signature counts toward the community's threshold; "
           "the platform relays it and pays the gas.")
with flow.session() as api:
    chain, w = flow.step(api, PAGE)
    relayed = flow.outcome(PAGE)
    if relayed is not None and relayed.get("work_id"):
        st.write(f"Derivative #{relayed['work_id']} is now **{relayed.get('status')}**.")
    if flow.connect_hint(chain, w):
        assert w.account is not None
        mine = {c["community_id"]: c for c in api.communities() if w.account.lower() in (s.lower() for s in c["stewards"])}
        if not mine:
            st.info(f"{w.account} is not a steward of any community.")
            st.stop()
        queue = [(d, api.work(d["work_id"])) for d in api.all_works(kind="derivative", status="pending")]
        queue = [(d, full) for d, full in queue if set(full["communities"]) & set(mine)]
        if not queue:
            st.success("Nothing awaits your consent.", icon=":material/inbox:")
        for item, full in queue:
            title = (full["manifest"] or {}).get("title", "untitled")
            community = mine[next(c for c in full["communities"] if c in mine)]
            with st.container(border=True):
                st.markdown(f"**#{item['work_id']} {title}** by {short(item['registrant'])} · "
                            f"{'commercial' if item['commercial'] else 'non-commercial'}")
                st.caption(" · ".join(f"#{p} {percent(ppm)}" for p, ppm in zip(item["parents"], item["parent_ppms"], strict=True))
                           + f" · needs {community['threshold']} of {len(community['stewards'])} stewards of {community['name']}")
                approve, refuse = st.columns(2)
                for column, ok in ((approve, True), (refuse, False)):
                    if column.button("Approve" if ok else "Refuse", key=f"{'ok' if ok else 'no'}-{item['work_id']}"):
                        path = f"/derivatives/{item['work_id']}/{'approvals' if ok else 'rejections'}"
                        draft = api.post(f"{path}/drafts", {"community_id": community["community_id"], "steward": w.account})
                        approvals = f"It needs {community['threshold']} of {len(community['stewards'])} stewards."
                        summary = words.consent(draft["typed_data"], approve=ok, title=title, community=community["name"],
                                                approvals=approvals)
                        flow.ask(PAGE, "sign", {"typed_data": draft["typed_data"]}, summary, label="Sign in wallet", relay=path)

        st.subheader("Change a protocol")
        heritage = [x for c in mine for x in api.all_works(community=c, kind="heritage")]
        if heritage:
            work = st.selectbox("Heritage work", heritage, format_func=lambda x: f"#{x['work_id']} of community #{x['community_id']}")
            now = api.get(f"/works/{work['work_id']}/protocol")[0]
            with st.form("protocol"):
                flags = {name: st.checkbox(text, value=bool(now[name]), key=f"p-{name}") for name, text in FLAGS}
                floor = st.number_input("Community floor (%)", min_value=0.0, max_value=100.0, value=now["floor_ppm"] * 100 / PPM)
                change = st.form_submit_button("Prepare the change")
            if change:
                community = mine[int(work["community_id"] or 0)]
                body = {"community_id": community["community_id"], "steward": w.account,
                        "protocol": {**flags, "floor_ppm": int(floor * PPM / 100), "labels": now["labels"],
                                     "labels_version": now["labels_version"], "season": now.get("season", 0)}}
                path = f"/works/{work['work_id']}/protocol"
                draft = api.post(f"{path}/drafts", body)
                flow.ask(PAGE, "sign", {"typed_data": draft["typed_data"]},
                         words.set_protocol(draft["typed_data"], community=community["name"]), label="Sign in wallet", relay=path)
