"""Register a restricted (secret/sacred) work as one of its community's stewards: only a salted
hash of the content is published. The file's CID is computed by the API, which does not store
it (POST /content/cid); the salt is made here and shown for the community to keep (with the file
it proves the commitment).
POST /works/restricted/drafts → the steward's wallet → POST /transactions."""

from __future__ import annotations

import hashlib
import json
import os

import streamlit as st

from dashboard.wallet import flow, words

PAGE = "restricted"

with flow.page(PAGE, "Register a restricted work", "For secret or sacred material: the chain records only that the "
               "community holds such a work, as a salted hash. It can never be paid, and no derivative of it can be "
               "registered.") as p:
    api, relayed = p.api, p.relayed
    kept = st.session_state.get(f"{PAGE}:kept")
    if relayed is not None and relayed.get("work_id") and kept:
        st.subheader(f"Restricted work #{relayed['work_id']} ({relayed.get('status')})")
        st.warning("Keep this record with the community: the salt is not stored anywhere else.", icon=":material/key:")
        st.download_button("Download the commitment record", json.dumps(kept, indent=2), file_name="commitment.json")
        st.json(kept)
    if me := p.account():
        mine = p.stewarded()
        if not mine:
            st.warning(f"{me} is not a steward of any community.")
            st.stop()
        with st.form("restricted"):
            community = st.selectbox("Community", mine, format_func=lambda c: f"#{c['community_id']} {c['name']}")
            secret = st.file_uploader("The recording (not stored: only its CID's salted hash is published)")
            reserve = st.checkbox("Reserve these bytes: publish their CID's hash so nobody can register them publicly",
                                  value=True)
            submitted = st.form_submit_button("Prepare the registration")
        if submitted:
            if secret is None:
                st.error("Choose the file.")
                st.stop()
            found = api.cid(secret.name, secret.getvalue(), secret.type)  # computed by the API, not stored
            cid = found["cid"]
            salt = os.urandom(32)
            commitment = "0x" + hashlib.sha256(salt + bytes.fromhex(found["cid_hex"][2:])).hexdigest()
            draft = api.post("/works/restricted/drafts", {"steward": me, "community_id": community["community_id"],
                                                          "commitment": commitment, "reserved_cids": [cid] if reserve else []})
            st.session_state[f"{PAGE}:kept"] = {"community_id": community["community_id"], "cid": cid, "salt": "0x" + salt.hex(),
                                               "commitment": commitment, "rule": "sha256(salt ‖ binary CID)"}
            what = words.restricted(community=community["name"], commitment=commitment, reserved=reserve)
            p.send(draft["transaction"], what)
