"""My account, after Sign-In with Ethereum (EIP-4361): the works I registered, my balance and
withdrawals, the communities I steward and the derivatives awaiting my consent. The sign-in is a
message signed in the wallet (personal_sign); the API answers a session token with an expiry
(POST /session/challenge → wallet → POST /session), kept for this browser session only."""

from __future__ import annotations

import time

import streamlit as st

from dashboard.client import ApiProblem
from dashboard.ui import eth, when
from dashboard.wallet import flow

PAGE = "account"

with flow.page(PAGE, "My account") as p:
    api, w, signed = p.api, p.wallet, p.relayed
    if signed is not None and "token" in signed:
        st.session_state["siwe"] = signed
        st.session_state.pop(f"{PAGE}:outcome", None)
    session = st.session_state.get("siwe")
    if session is not None and (session["expires"] < time.time() or (w.account and session["address"] != w.account)):
        session = st.session_state["siwe"] = None
    if account := p.account():
        if session is None:
            st.write("Sign in with your wallet to see your works, balance and pending approvals. Signing in moves "
                     "nothing and costs nothing.")
            if st.button("Sign in with Ethereum"):
                host = st.context.headers.get("host") if st.context.headers else None
                text = api.post("/session/challenge", {"address": account, "domain": host,
                                                       "uri": f"http://{host}" if host else None})["message"]
                p.ask("message", {"message": text}, "Sign in to Heritage Ledger with "
                         f"{account}: a message, not a transaction; the session lasts 8 hours.", label="Sign in wallet")
        else:
            try:
                me = api.get_as("/session/me", session["token"])
            except ApiProblem as err:
                st.session_state["siwe"] = None
                st.warning(f"Your session ended ({err.detail}); sign in again.")
                st.stop()
            st.caption(f"Signed in as {me['address']} until {when(me['expires'])}.")
            a, b, c = st.columns(3)
            a.metric("Balance to withdraw", f"{eth(int(me['balance_wei']))} ETH")
            b.metric("Works registered", len(me["works"]))
            c.metric("Awaiting my consent", len(me["pending_approvals"]))
            st.subheader("My works")
            st.dataframe([{"work": x["work_id"], "kind": x["kind"], "status": x["status"], "payments": x["payments"],
                           "paid (ETH)": eth(x["paid_wei"])} for x in me["works"]], hide_index=True)
            st.subheader("Pending approvals")
            st.dataframe([{"work": x["work_id"], "registrant": x["registrant"], "parents": x["parents"]}
                          for x in me["pending_approvals"]], hide_index=True)
            if awaited := me["awaiting_my_signature"]:
                st.subheader("Awaiting my signature (k of n)")
                st.dataframe([{"action": a["action"], "community": a["community_id"], "work": a["work_id"],
                               "approvals": f"{a['approvals']} of {a['needed']}"} for a in awaited], hide_index=True)
                st.caption("Sign them in the steward's queue.")
            st.subheader("Withdrawals")
            st.dataframe([{"block": x["block"], "ETH": eth(int(x["amount_wei"])), "tx": x["tx"]} for x in me["withdrawals"]],
                         hide_index=True)
            if st.button("Sign out"):
                st.session_state["siwe"] = None
                st.rerun()
