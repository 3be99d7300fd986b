"""What a signature will do, in words, from the draft the API gave: shown on the page (and in the
wallet box) before the wallet is asked. Pure functions of the drafts' JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboard.ui import eth, percent, when

FLAGS = (("derivativesAllowed", "derivatives allowed", "no derivatives"),
         ("consentRequired", "the stewards' consent required for each derivative", "no consent needed"),
         ("commercialAllowed", "commercial use allowed", "no commercial use"),
         ("mlAllowed", "machine-learning use allowed", "no machine-learning use"),
         ("attributionRequired", "attribution required", "no attribution required"))


def protocol(p: dict[str, Any]) -> str:
    """A protocol (the typed data's `Protocol`) as one sentence."""
    parts = [yes if p[key] else no for key, yes, no in FLAGS]
    parts.append(f"a community floor of {percent(int(p['floorPpm']))} on every derivative")
    if int(p.get("labels", 0)):
        parts.append(f"Local Contexts labels {int(p['labels']):#x} (version {p['labelsVersion']})")
    if int(p.get("season", 0)):
        s = int(p["season"])
        parts.append(f"derivatives only from {s >> 24:02d}-{(s >> 16) & 0xFF:02d} to {(s >> 8) & 0xFF:02d}-{s & 0xFF:02d} (UTC)")
    return "; ".join(parts)


def split(recipients: Sequence[dict[str, Any]]) -> str:
    return ", ".join(f"{percent(int(r['ppm']))} to {r['account']}" for r in recipients)


def deadline(message: dict[str, Any]) -> str:
    return f"The signature is valid until {when(int(message['deadline']))} and can be used once (nonce {message['nonce']})."


def heritage(typed: dict[str, Any], *, title: str, community: str, cid: str) -> str:
    m = typed["message"]
    return (f"You sign, as a steward of {community} (community #{m['communityId']}), the registration of the heritage "
            f"work «{title}» (content {cid}).\n\nProtocol: {protocol(m['protocol'])}.\n\nIncome split: {split(m['split'])}."
            f"\n\n{deadline(m)} The platform relays it and pays the gas; nothing is paid from your account.")


def consent(typed: dict[str, Any], *, approve: bool, title: str, community: str, approvals: str) -> str:
    m = typed["message"]
    verb = "consent to" if approve else "refuse"
    return (f"You {verb}, for {community} (community #{m['communityId']}), derivative work #{m['workId']} «{title}». "
            f"{approvals}\n\n{deadline(m)} The platform relays it and pays the gas.")


def set_protocol(typed: dict[str, Any], *, community: str) -> str:
    m = typed["message"]
    return (f"You sign, for {community}, a new protocol for work #{m['workId']}: {protocol(m['protocol'])}. Tightening "
            f"takes effect at once; loosening counts toward the community's threshold of stewards.\n\n{deadline(m)}")


def transaction(tx: dict[str, Any], what: str, *, account: str) -> str:
    value = int(tx.get("value") or 0)
    pays = f" It sends {eth(value)} ETH from your account." if value else " It sends no ETH."
    fee = int(tx["gas"]) * int(tx.get("maxFeePerGas") or 0)
    return (f"{what}\n\nA transaction from {account} on chain {tx['chainId']} (nonce {tx['nonce']}).{pays} "
            f"Network fee at most {eth(fee)} ETH (gas limit {int(tx['gas']):,}).")


def community(*, name: str, stewards: Sequence[str], threshold: int, treasury: str) -> str:
    return (f"Register the community «{name}» with {len(stewards)} steward(s) ({', '.join(stewards)}); any governing action "
            f"needs {threshold} of their {len(stewards)} approvals; its treasury, which receives its works' income, is "
            f"{treasury}.")


def derivative(*, title: str, parents: Sequence[tuple[int, int, str]], commercial: bool, consent_from: Sequence[str]) -> str:
    lineage = ", ".join(f"{percent(ppm)} of every payment to #{work} «{name}»" for work, ppm, name in parents)
    needs = (f" It stays pending until the stewards of {', '.join(consent_from)} consent." if consent_from
             else " No community's consent is needed: it is active once mined.")
    return (f"Register your derivative «{title}» ({'commercial' if commercial else 'non-commercial'} use), routing "
            f"{lineage} upstream.{needs}")


def payment(*, work: int, title: str, amount_wei: int) -> str:
    return (f"Pay {eth(amount_wei)} ETH to work #{work} «{title}». The router credits every rightsholder along its "
            "lineage (upstream shares first, then the work's own split); they withdraw when they wish.")


def withdrawal(*, balance_wei: int, symbol: str = "ETH", decimals: int = 18) -> str:
    return f"Withdraw your whole balance, {units(balance_wei, decimals)} {symbol}, from the royalty router to your account."


def units(amount: int, decimals: int) -> str:
    """A token amount in its whole units (`decimals` places), without trailing zeros."""
    whole, frac = divmod(amount, 10**decimals)
    return f"{whole}" + (f".{frac:0{decimals}d}".rstrip("0") if frac else "")


def token_approval(*, symbol: str, amount: int, decimals: int, work: int) -> str:
    return (f"Step 1 of 2: allow the royalty router to take {units(amount, decimals)} {symbol} from your account, for "
            f"your payment to work #{work}. Nothing is paid yet; the payment is step 2.")


def token_payment(*, symbol: str, amount: int, decimals: int, work: int, title: str) -> str:
    return (f"Pay {units(amount, decimals)} {symbol} to work #{work} «{title}». The router takes them (you allowed it) and "
            "credits every rightsholder along its lineage in the same token; they withdraw when they wish.")


def claim(*, work: int, community: str, evidence: str | None, bond_wei: int, omitted: int) -> str:
    kind = f"that it leaves your heritage work #{omitted} out of its lineage" if omitted else "of misappropriation"
    proof = f"with the evidence stored as {evidence}" if evidence else "without evidence"
    return (f"Raise, for {community}, a claim {kind} on work #{work}, {proof}. Your bond of {eth(bond_wei)} ETH is held "
            "until the claim ends; the disputed share is escrowed meanwhile, and the dispute committee rules.")


def steward_change(*, community: str, stewards: Sequence[str], threshold: int, treasury: str, approvals: int,
                   needed: int) -> str:
    now = ("this approval applies it" if approvals + 1 >= needed
           else f"it applies when {needed} of the current stewards have approved it ({approvals} so far, with yours {approvals + 1})")
    return (f"Approve replacing the stewards of {community} with {', '.join(stewards)}; from then on {threshold} of their "
            f"{len(stewards)} approvals govern it, and its treasury is {treasury}. The same change must be approved by the "
            f"current stewards: {now}.")


def restricted(*, community: str, commitment: str, reserved: bool) -> str:
    reservation = (" The file's CID is hashed and reserved, so the same bytes can never be registered publicly."
                   if reserved else " The file is not reserved: its bytes could still be registered by someone else.")
    return (f"Register, for {community}, a secret/sacred work as the commitment {commitment} only: no content, title or "
            f"CID is published, it is never paid and no derivative of it can exist.{reservation}")


def approvals(pending: dict[str, Any] | None, *, needed: int) -> str:
    """Where an action stands toward its community's threshold, before this steward signs."""
    have = pending["approvals"] if pending else 0
    return f"Approvals {have} of {needed} so far; with yours {have + 1} of {needed}."


def pending_action(typed: dict[str, Any], *, community: str, standing: str) -> str:
    """Another steward's proposed action, as this steward will co-sign it."""
    m, action = typed["message"], typed["primaryType"]
    if action == "RegisterHeritageWork":
        what = (f"the registration of a heritage work (content {m['contentCid'][:18]}…) with protocol: "
                f"{protocol(m['protocol'])}; income split: {split(m['split'])}")
    elif action == "SetProtocol":
        what = f"a new protocol for work #{m['workId']}: {protocol(m['protocol'])}"
    else:
        verb = "consent to" if action == "ApproveDerivative" else "refusal of"
        what = f"the {verb} derivative work #{m['workId']}"
    return f"You co-sign, as a steward of {community}, {what}. {standing}\n\n{deadline(m)}"
