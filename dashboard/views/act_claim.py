"""Raise a claim (a dispute) on a work for one's community, with evidence stored by CID and the
bond, from the steward's wallet (POST /claims/drafts → wallet → POST /transactions); and a dispute
committee member's vote on an open claim (POST /claims/{id}/votes/drafts)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import PPM, eth, when
from dashboard.wallet import flow, words

with flow.page("claim", "Raise a claim", "A community that finds its heritage misused — or left out of a derivative's "
               "lineage — raises a claim with evidence and a bond. The disputed share is held in escrow until the dispute "
               "committee rules or the claim times out.") as p:
    api = p.api
    if (claimed := p.relayed_work()) is not None:
        if claimed["claim"] is not None:
            claim = api.get(f"/claims/{claimed['claim']}")
            st.subheader(f"Claim #{claim['dispute_id']} on work #{claim['work_id']}: {claim['status']}")
            st.write(f"{claim['kind']} claim by community #{claim['community_id']} · bond {eth(claim['bond_wei'])} ETH · "
                     f"the committee rules by {when(claim['deadline'])}")
    if me := p.account():
        mine = p.stewarded()
        works = [x for x in api.all_works() if x["kind"] == "derivative" and not x["disputed"]]
        if mine and works:
            with st.form("claim"):
                community = st.selectbox("For community", mine, format_func=lambda c: f"#{c['community_id']} {c['name']}")
                target = st.selectbox("Work claimed", works, format_func=lambda x: f"#{x['work_id']} {x['kind']} by {x['registrant']}")
                omitted = st.number_input("Omission: our heritage work left out of its lineage (id; 0 if none)", min_value=0,
                                          value=0)
                share = st.number_input("Share claimed for it (%)", min_value=0.0, max_value=100.0, value=0.0)
                evidence_file = st.file_uploader("Evidence (recording, score, document)")
                statement = st.text_area("Or the evidence in words")
                raise_it = st.form_submit_button("Prepare the claim")
            if raise_it:
                evidence = None
                if evidence_file is not None:
                    evidence = api.upload(evidence_file.name, evidence_file.getvalue(), evidence_file.type)["cid"]
                elif statement.strip():
                    evidence = api.upload("statement.txt", statement.strip().encode(), "text/plain")["cid"]
                draft = api.post("/claims/drafts", {"work_id": target["work_id"], "community_id": community["community_id"],
                                                    "claimant": me, "heritage_work_id": int(omitted),
                                                    "claimed_ppm": int(share * PPM / 100), "evidence_cid": evidence})
                what = words.claim(work=target["work_id"], community=community["name"], evidence=evidence,
                                   bond_wei=int(draft["transaction"]["value"]), omitted=int(omitted))
                p.send(draft["transaction"], what)
        else:
            st.info("Only a community's stewards raise claims, on a derivative that is not disputed already.")
        st.subheader("Committee vote")
        with st.form("vote"):
            dispute = st.number_input("Claim id", min_value=1, value=1)
            uphold = st.radio("Ruling", ["Uphold the claim", "Dismiss the claim"], horizontal=True) == "Uphold the claim"
            vote = st.form_submit_button("Prepare the vote")
        if vote:
            draft = api.post(f"/claims/{int(dispute)}/votes/drafts", {"member": me, "uphold": uphold})
            what = f"As a member of the dispute committee, vote to {'uphold' if uphold else 'dismiss'} claim #{int(dispute)}."
            p.send(draft["transaction"], what)
