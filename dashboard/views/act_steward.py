"""The steward's queue: derivatives of the community's works awaiting consent, and the actions
other stewards proposed (heritage registrations, protocol changes), each with its approvals k of
n. A steward approves, refuses or co-signs with an EIP-712 signature in the wallet; the API stores
it (POST /approvals) and relays every stored signature once the community's threshold is reached.
A heritage work's protocol is changed the same way (…/protocol/drafts)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.ui import PPM, percent, short
from dashboard.wallet import flow, words

FLAGS = (("derivatives_allowed", "Derivatives allowed"), ("consent_required", "Each derivative needs consent"),
         ("commercial_allowed", "Commercial use allowed"), ("ml_allowed", "Machine-learning use allowed"),
         ("attribution_required", "Attribution required"))
ACTIONS = {"RegisterHeritageWork": "Register a heritage work", "SetProtocol": "Change a protocol",
           "ApproveDerivative": "Consent to a derivative", "RejectDerivative": "Refuse a derivative"}

with flow.page("steward", "Steward's queue", "What awaits your community's stewards. Your signature counts toward the "
               "community's threshold (k of n); it is stored until enough stewards have signed, then the platform relays "
               "them all and pays the gas.") as p:
    api, relayed = p.api, p.relayed
    if relayed is not None and relayed.get("status") == "applied" and relayed.get("work_id"):
        if relayed["action"] in ("ApproveDerivative", "RejectDerivative"):
            st.write(f"Derivative #{relayed['work_id']} is now **{api.work(int(relayed['work_id']))['status']}**.")
        else:
            st.write(f"Work #{relayed['work_id']}: {ACTIONS[relayed['action']].lower()}, applied.")
    if me := p.account():
        mine = {c["community_id"]: c for c in p.stewarded()}
        if not mine:
            st.info(f"{me} is not a steward of any community.")
            st.stop()
        waiting: list[dict[str, Any]] = [a for c in mine for a in api.get("/approvals", community_id=c)]
        by_work = {(a["action"], a["work_id"]): a for a in waiting}
        queue = [(d, api.work(d["work_id"])) for d in api.all_works(kind="derivative", status="pending")]
        queue = [(d, full) for d, full in queue if set(full["communities"]) & set(mine)]
        if not queue and not waiting:
            st.success("Nothing awaits your consent.", icon=":material/inbox:")
        for item, full in queue:
            title = (full["manifest"] or {}).get("title", "untitled")
            community = mine[next(c for c in full["communities"] if c in mine)]
            needed = community["threshold"]
            with st.container(border=True):
                st.markdown(f"**#{item['work_id']} {title}** by {short(item['registrant'])} · "
                            f"{'commercial' if item['commercial'] else 'non-commercial'}")
                st.caption(" · ".join(f"#{w} {percent(ppm)}" for w, ppm in zip(item["parents"], item["parent_ppms"], strict=True))
                           + f" · needs {needed} of {len(community['stewards'])} stewards of {community['name']}")
                approve, refuse = st.columns(2)
                for column, ok in ((approve, True), (refuse, False)):
                    action = "ApproveDerivative" if ok else "RejectDerivative"
                    standing = by_work.get((action, item["work_id"]))
                    column.caption(f"{'Consent' if ok else 'Refusal'}: approvals {standing['approvals'] if standing else 0} "
                                   f"of {needed}" + (" (you signed)" if standing and me in standing["signers"] else ""))
                    if column.button("Approve" if ok else "Refuse", key=f"{'ok' if ok else 'no'}-{item['work_id']}"):
                        path = f"/derivatives/{item['work_id']}/{'approvals' if ok else 'rejections'}"
                        draft = api.post(f"{path}/drafts", {"community_id": community["community_id"], "steward": me})
                        summary = words.consent(draft["typed_data"], approve=ok, title=title, community=community["name"],
                                                approvals=words.approvals(standing, needed=needed))
                        p.sign(draft["typed_data"], summary, relay="/approvals")

        others = [a for a in waiting if a["action"] in ("RegisterHeritageWork", "SetProtocol")]
        if others:
            st.subheader("Proposed by stewards")
        for a in others:
            community = mine[a["community_id"]]
            with st.container(border=True):
                about = f" · work #{a['work_id']}" if a["work_id"] else ""
                st.markdown(f"**{ACTIONS[a['action']]}**{about} · {community['name']}")
                st.caption(f"approvals {a['approvals']} of {a['needed']} · signed by "
                           f"{', '.join(short(s) for s in a['signers']) or 'nobody (signatures expired)'}")
                if me in a["signers"]:
                    st.caption("You signed; it waits for the other stewards.")
                elif st.button("Add my signature", key=f"cosign-{a['key']}"):
                    draft = api.post(f"/approvals/{a['key']}/drafts", {"steward": me})
                    summary = words.pending_action(draft["typed_data"], community=community["name"],
                                                   standing=words.approvals(a, needed=a["needed"]))
                    p.sign(draft["typed_data"], summary, relay="/approvals")

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
                body = {"community_id": community["community_id"], "steward": me,
                        "protocol": {**flags, "floor_ppm": int(floor * PPM / 100), "labels": now["labels"],
                                     "labels_version": now["labels_version"], "season": now.get("season", 0)}}
                draft = api.post(f"/works/{work['work_id']}/protocol/drafts", body)
                p.sign(draft["typed_data"], words.set_protocol(draft["typed_data"], community=community["name"]),
                       relay="/approvals")
