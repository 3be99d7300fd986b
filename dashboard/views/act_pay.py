"""Pay a work and withdraw a balance, from the user's own wallet (POST /payments/drafts and
/withdrawals/drafts → wallet → POST /transactions); the balance shown is the router's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from dashboard.ui import WEI_PER_ETH, eth
from dashboard.wallet import flow, words

PAGE = "pay"

st.title("Pay and withdraw")
st.caption("A payment to a work is routed along its lineage to every rightsholder; what you are owed waits in the "
           "royalty router until you withdraw it.")
with flow.session() as api:
    chain, w = flow.step(api, PAGE)
    flow.outcome(PAGE)
    if flow.connect_hint(chain, w):
        assert w.account is not None
        balance = int(api.get(f"/balances/{w.account}")["amount"])
        st.metric("Your balance in the router", f"{eth(balance)} ETH")
        works = [x for x in api.all_works(status="active") if x["kind"] != "restricted"]
        left, right = st.columns(2)
        with left, st.form("pay"):
            work = st.selectbox("Work", works, format_func=lambda x: f"#{x['work_id']} {x['kind']} · paid {eth(x['paid_wei'])} ETH")
            amount = st.text_input("Amount (ETH)", value="0.01")
            pay = st.form_submit_button("Prepare the payment")
        with right:
            withdraw = st.button("Prepare a withdrawal", disabled=balance == 0)
        if pay and work is not None:
            try:
                wei = int(Decimal(amount) * WEI_PER_ETH)
            except InvalidOperation:
                wei = 0
            if wei <= 0:
                st.error("The amount must be a positive number of ETH, e.g. 0.01.")
                st.stop()
            draft = api.post("/payments/drafts", {"payer": w.account, "work_id": work["work_id"], "amount_wei": wei})
            what = words.payment(work=work["work_id"], title=f"{work['kind']} #{work['work_id']}", amount_wei=wei)
            flow.ask(PAGE, "send", {"transaction": draft["transaction"]},
                     words.transaction(draft["transaction"], what, account=w.account), label="Confirm in wallet")
        if withdraw:
            draft = api.post("/withdrawals/drafts", {"account": w.account})
            flow.ask(PAGE, "send", {"transaction": draft["transaction"]},
                     words.transaction(draft["transaction"], words.withdrawal(balance_wei=balance), account=w.account),
                     label="Confirm in wallet")
