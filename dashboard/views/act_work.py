"""Register a heritage work as one of its community's stewards: upload the recording or score
(→ its CID), describe it, set its cultural protocol and its income split, and sign the EIP-712
registration in the wallet; the platform relays it (POST /works/drafts → wallet → POST /works)."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import PPM, percent
from dashboard.wallet import flow, words

LABELS = {"TK Attribution": 1 << 0, "TK Community Voice": 1 << 4, "TK Verified": 1 << 6, "TK Non-Commercial": 1 << 16,
          "TK Open to Collaboration": 1 << 19, "BC Provenance": 1 << 32}  # bit = label id (contracts/README.md)

with flow.page("work", "Register a heritage work", "For a community's stewards: the work's content is stored by its CID, "
               "its protocol says what others may do with it, and its split says who receives its income. You sign; the "
               "platform pays the gas.") as p:
    api = p.api
    if (work := p.relayed_work()) is not None:
        st.subheader(f"Work #{work['work_id']}: {(work['manifest'] or {}).get('title', '')}")
        st.write(f"Content `{work['content_cid']}` · community #{work['community_id']} · status {work['status']}")
        st.json(api.get(f"/works/{work['work_id']}/protocol")[0], expanded=False)
    elif p.relayed is not None:
        st.info("Registered by this steward; the community's other stewards must still sign (k of n).")
    if me := p.account():
        mine = p.stewarded()
        if not mine:
            st.warning(f"{me} is not a steward of any community. Register a community first, or connect a "
                       "steward's wallet.")
            st.stop()
        with st.form("register-work"):
            community = st.selectbox("Community", mine, format_func=lambda c: f"#{c['community_id']} {c['name']}")
            upload = st.file_uploader("Recording or score")
            title = st.text_input("Title")
            tradition = st.text_input("Tradition")
            region = st.text_input("Region")
            st.markdown("**Cultural protocol**")
            derivatives = st.checkbox("Derivatives allowed", value=True)
            consent = st.checkbox("Each derivative needs the stewards' consent", value=False)
            commercial = st.checkbox("Commercial use allowed", value=True)
            ml = st.checkbox("Machine-learning use allowed", value=True)
            attribution = st.checkbox("Attribution required", value=True)
            labels = st.multiselect("Local Contexts labels", list(LABELS))
            floor = st.number_input("Community floor on every derivative (%)", min_value=0, max_value=100, value=10)
            st.markdown("**Income split** (defaults to everything to the community's treasury)")
            split_text = st.text_area("One `address, percent` a line", value="")
            submitted = st.form_submit_button("Prepare the registration")
        if submitted:
            if upload is None or not title.strip():
                st.error("Choose the file and give the work a title.")
                st.stop()
            stored = api.upload(upload.name, upload.getvalue(), upload.type)
            split = []
            for line in split_text.splitlines():
                if line.strip():
                    account, _, share = line.partition(",")
                    split.append({"account": account.strip(), "ppm": int(float(share) * PPM / 100)})
            body = {"community_id": community["community_id"], "steward": me, "content_cid": stored["cid"],
                    "title": title.strip(), "tradition": tradition or None, "region": region or None,
                    "media_type": stored["media_type"], "split": split,
                    "protocol": {"derivatives_allowed": derivatives, "consent_required": consent,
                                 "commercial_allowed": commercial, "ml_allowed": ml, "attribution_required": attribution,
                                 "floor_ppm": int(floor) * PPM // 100, "labels": sum(LABELS[n] for n in labels)}}
            draft = api.post("/works/drafts", body)
            summary = words.heritage(draft["typed_data"], title=title.strip(), community=community["name"], cid=stored["cid"])
            if community["threshold"] > 1 and split:
                summary += (f"\n\n{community['name']} needs {community['threshold']} of its {len(community['stewards'])} "
                            "stewards' signatures for this: yours is stored until the others add theirs in the steward's "
                            "queue (a split of everything to the treasury registers at once).")
            p.sign(draft["typed_data"], summary, relay="/approvals")
    st.caption(f"Floor shares are parts per million on chain: {percent(100_000)} = 100,000 ppm.")
