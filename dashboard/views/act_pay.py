"""Pay a work and withdraw a balance, from the user's own wallet, in ETH or in an ERC-20 token
(POST /payments/drafts and /withdrawals/drafts → wallet → POST /transactions). A token payment
takes two signatures: the token's approval of the royalty router (POST /tokens/{token}/approvals
/drafts → wallet → POST /tokens/{token}/approvals), then the payment itself (RoyaltyRouter.payToken).
The balances shown are the router's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from dashboard.ui import eth
from dashboard.wallet import flow, words

with flow.page("pay", "Pay and withdraw", "A payment to a work is routed along its lineage to every rightsholder; what "
               "you are owed waits in the royalty router until you withdraw it.") as p:
    api = p.api
    if me := p.account():
        in_token = st.radio("Pay in", ["ETH", "An ERC-20 token"], horizontal=True) != "ETH"
        token = st.text_input("Token address (ERC-20)", placeholder="0x…").strip() if in_token else ""
        symbol, decimals, allowance = "ETH", 18, 0
        if token:
            held = api.get(f"/tokens/{token}", account=me)
            symbol, decimals, allowance = held["symbol"], int(held["decimals"]), int(held["allowance"])
            st.caption(f"You hold {words.units(int(held['balance']), decimals)} {symbol}; the router may take "
                       f"{words.units(allowance, decimals)} {symbol} of it.")
        elif in_token:
            st.stop()
        balance = int(api.get(f"/balances/{me}", **({"token": token} if token else {}))["amount"])
        st.metric("Your balance in the router", f"{words.units(balance, decimals)} {symbol}")
        works = [x for x in api.all_works(status="active") if x["kind"] != "restricted"]
        left, right = st.columns(2)
        with left, st.form("pay"):
            work = st.selectbox("Work", works, format_func=lambda x: f"#{x['work_id']} {x['kind']} · paid {eth(x['paid_wei'])} ETH")
            amount = st.text_input(f"Amount ({symbol})", value="0.01")
            pay = st.form_submit_button("Prepare the payment")
        with right:
            withdraw = st.button("Prepare a withdrawal", disabled=balance == 0)
        if pay and work is not None:
            try:
                units = int(Decimal(amount) * 10**decimals)
            except InvalidOperation:
                units = 0
            if units <= 0:
                st.error(f"The amount must be a positive number of {symbol}, e.g. 0.01.")
                st.stop()
            title = f"{work['kind']} #{work['work_id']}"
            if not token:
                draft = api.post("/payments/drafts", {"payer": me, "work_id": work["work_id"], "amount_wei": units})
                p.send(draft["transaction"], words.payment(work=work["work_id"], title=title, amount_wei=units))
            elif allowance < units:
                draft = api.post(f"/tokens/{token}/approvals/drafts", {"owner": me, "amount": units})
                p.send(draft["transaction"], words.token_approval(symbol=symbol, amount=units, decimals=decimals,
                                                                  work=work["work_id"]), relay=f"/tokens/{token}/approvals")
            else:
                draft = api.post("/payments/drafts", {"payer": me, "work_id": work["work_id"], "amount_wei": units,
                                                      "token": token})
                p.send(draft["transaction"], words.token_payment(symbol=symbol, amount=units, decimals=decimals,
                                                                 work=work["work_id"], title=title))
        if withdraw:
            draft = api.post("/withdrawals/drafts", {"account": me, **({"token": token} if token else {})})
            p.send(draft["transaction"], words.withdrawal(balance_wei=balance, symbol=symbol, decimals=decimals))
        if p.relayed is not None and "allowance" in p.relayed:
            st.info(f"The router may now take {words.units(int(p.relayed['allowance']), decimals)} {symbol}: prepare the "
                    "payment again to pay (step 2 of 2).", icon=":material/looks_two:")
