"""Register a community: its stewards, their threshold (k of n) and its treasury, sent from the
user's own wallet (POST /communities/drafts → the wallet → POST /transactions); and, for its
stewards, a change of stewards, threshold or treasury, applied once the current threshold of
stewards approved the same change (POST /communities/{id}/changes/drafts)."""

from __future__ import annotations

import streamlit as st

from dashboard.wallet import flow, words

PAGE = "community"

with flow.page(PAGE, "Register a community", "A community registers once, with the stewards who govern its works and the "
               "number of them that must agree. You send the registration from your own wallet.") as p:
    api = p.api
    if p.relayed is not None:
        shown = st.session_state.get(f"{PAGE}:changed")
        newest = max(api.communities(), key=lambda c: c["community_id"] if shown is None else int(c["community_id"] == shown))
        st.subheader(f"Community #{newest['community_id']}: {newest['name']}")
        st.write(f"Stewards: {', '.join(newest['stewards'])} · threshold {newest['threshold']} of {len(newest['stewards'])} "
                 f"· treasury {newest['treasury']}")
    if me := p.account():
        with st.form("register-community"):
            name = st.text_input("Name", placeholder="e.g. Shaanxi folk song keepers")
            stewards_text = st.text_area("Stewards (one address a line)", value=me)
            threshold = st.number_input("Approvals needed (k of n)", min_value=1, value=1, step=1)
            treasury = st.text_input("Treasury (receives the community's income)", value=me)
            submitted = st.form_submit_button("Prepare the registration")
        if submitted:
            stewards = [s.strip() for s in stewards_text.splitlines() if s.strip()]
            if not name.strip() or not stewards:
                st.error("Give the community a name and at least one steward.")
            else:
                st.session_state.pop(f"{PAGE}:changed", None)
                draft = api.post("/communities/drafts", {"sender": me, "name": name.strip(), "stewards": stewards,
                                                         "threshold": int(threshold), "treasury": treasury.strip()})
                what = words.community(name=name.strip(), stewards=stewards, threshold=int(threshold), treasury=treasury.strip())
                p.send(draft["transaction"], what)

        mine = p.stewarded()
        if mine:
            st.subheader("Change a community's stewards")
            target = st.selectbox("Community", mine, format_func=lambda c: f"#{c['community_id']} {c['name']}")
            with st.form("change-stewards"):
                new_stewards = st.text_area("New stewards (one address a line)", value="\n".join(target["stewards"]))
                new_threshold = st.number_input("New approvals needed", min_value=1, value=int(target["threshold"]), step=1)
                new_treasury = st.text_input("New treasury", value=target["treasury"])
                approve = st.form_submit_button("Prepare my approval")
            if approve:
                stewards = [s.strip() for s in new_stewards.splitlines() if s.strip()]
                draft = api.post(f"/communities/{target['community_id']}/changes/drafts",
                                 {"steward": me, "stewards": stewards, "threshold": int(new_threshold),
                                  "treasury": new_treasury.strip()})
                st.session_state[f"{PAGE}:changed"] = target["community_id"]
                what = words.steward_change(community=target["name"], stewards=stewards, threshold=int(new_threshold),
                                            treasury=new_treasury.strip(), approvals=draft["approvals"],
                                            needed=draft["threshold"])
                p.send(draft["transaction"], what)
