"""Listening room: raters rate a study's pieces, researchers read its results.

Opened with a signed link, `?study=ID&token=…`. A rater's token (from an invitation) shows the
study's instructions, the next piece in the rater's own order with an audio player, the criteria
on their scales, a submit button and the progress; a researcher's token shows per-criterion
mean ± SD, approval shares, ICC(2,1) and ICC(2,k) with their intervals, per condition and per
piece, and the seed studies' three tables. Which of the two the token is, the API says: a rater's
token is refused (not-permitted) where the researcher's view is asked for.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.client import ApiClient, ApiError, ApiProblem, Criterion, NextPiece, Study
from dashboard.media import classify
from dashboard.ui import api_session, short

DASH = "—"
RADIO_POINTS = 11  # scales up to this many points are radio buttons; longer ones a number box
FLASH = "listening_flash"
# What a rater is told when the API refuses a token or a study (the API's detail follows).
REFUSALS = {
    "token-expired": "Your invitation has expired: ask the researcher for a new link.",
    "token-invalid": "This link is not valid (it may be cut short or altered): open the link you were given unchanged, "
                     "or ask the researcher for a new one.",
    "token-missing": "This link carries no token: open the link you were given unchanged.",
    "unknown-study": "There is no such study: check the link.",
    "not-a-rater": "You are not a rater of this study: ask its researcher for an invitation.",
    "not-permitted": "This token does not open this study: use the link you were given for it.",
    "study-not-open": "This study is not taking ratings.",
}

SUBMIT_REFUSALS = {
    "already-rated": "You have already rated this piece: your first ratings stand and cannot be changed.",
    "off-scale": "A rating is off its scale; nothing was stored.",
}


def refusal(err: ApiProblem) -> None:
    """A refused token or study as a message (not a traceback), then the end of the run."""
    lead = REFUSALS.get(err.code)
    if lead is None:
        raise err
    if err.code == "study-not-open":
        st.info(f"{lead} {err.detail}", icon=":material/event_busy:")
    else:
        st.error(f"{lead} ({err.detail})", icon=":material/key_off:")
    st.stop()


def credentials() -> tuple[str, str] | None:
    """The study and token from the link, or a form asking for them."""
    study, token = st.query_params.get("study", ""), st.query_params.get("token", "")
    if study and token:
        return study, token
    st.info("Open the link you were sent (it names the study and carries your token), or paste them here.")
    with st.form("listening_open"):
        study = st.text_input("Study", value=study, key="listening_study")
        token = st.text_input("Token", value=token, type="password", key="listening_token")
        if st.form_submit_button("Open", icon=":material/login:") and study.strip() and token.strip():
            st.query_params.update({"study": study.strip(), "token": token.strip()})
            st.rerun()
    return None


def scale_text(c: Criterion, value: int) -> str:
    labels = c["scale"]["labels"]
    return f"{value} · {labels[value - c['scale']['min']]}" if labels else str(value)


# ---------------------------------------------------------------------- the rater
def play(api: ApiClient, cid: str) -> None:
    content = api.content(cid)
    kind = classify(content.data, content.media_type)
    if kind.presentation == "audio":
        st.audio(content.data, format=kind.media_type)
    else:
        st.warning(f"This piece is {kind.media_type}, which does not play in the browser: download it to listen.")
        st.download_button("Download the piece", content.data, file_name=f"piece{kind.extension}", mime=kind.media_type,
                           key=f"download_{cid}")


def ask(c: Criterion, cid: str) -> None:
    """One criterion's control on its scale (session key `rate_<cid>_<name>`), unanswered until the rater picks a value."""
    lo, hi = c["scale"]["min"], c["scale"]["max"]
    label = f"**{c['name']}**" + (f" — {c['prompt']}" if c["prompt"] else "")
    key = f"rate_{cid}_{c['name']}"
    if hi - lo + 1 <= RADIO_POINTS:
        st.radio(label, list(range(lo, hi + 1)), index=None, horizontal=True, key=key, format_func=lambda v: scale_text(c, v))
    else:
        st.number_input(label, min_value=lo, max_value=hi, value=None, step=1, key=key, placeholder=f"{lo} … {hi}")


def show_rater(api: ApiClient, study_id: str, token: str) -> None:
    try:
        nxt: NextPiece = api.next_piece(study_id, token)
    except ApiProblem as err:
        refusal(err)
        return
    st.header(nxt["title"])
    if nxt["instructions"]:
        st.markdown(nxt["instructions"])
    st.progress(nxt["done"] / nxt["total"] if nxt["total"] else 1.0, text=f"{nxt['done']} of {nxt['total']} pieces rated")
    if (flash := st.session_state.pop(FLASH, None)) is not None:
        kind, text = flash
        {"success": st.success, "warning": st.warning, "error": st.error}[kind](text)
    piece = nxt["piece"]
    if piece is None:
        st.success("You have rated every piece of this study. Thank you for taking part!", icon=":material/celebration:")
        return
    st.subheader(f"Piece {nxt['position']} of {nxt['total']}")
    if piece["condition"] is not None:
        st.caption(f"Condition: {piece['condition']}" + (f" · work #{piece['work_id']}" if piece["work_id"] else ""))
    play(api, piece["cid"])
    if nxt["references"]:
        with st.expander(f"Reference pieces ({len(nxt['references'])}), to compare with; they are not rated"):
            for i, ref in enumerate(nxt["references"], 1):
                st.caption(f"Reference {i}")
                play(api, ref["cid"])
    with st.form(f"rating_{piece['cid']}"):
        for c in nxt["criteria"]:
            ask(c, piece["cid"])
        st.form_submit_button("Submit my ratings", type="primary", icon=":material/send:", on_click=submit,
                              args=(study_id, token, piece["cid"], nxt["position"], [c["name"] for c in nxt["criteria"]]))


def submit(study_id: str, token: str, cid: str, position: int | None, criteria: list[str]) -> None:
    """The form's callback: send the ratings of the piece the rater saw (not of whatever piece the
    study hands out next), and leave what happened for the next run to show."""
    answers = {name: st.session_state.get(f"rate_{cid}_{name}") for name in criteria}
    missing = [name for name, v in answers.items() if v is None]
    if missing:
        st.session_state[FLASH] = ("warning", f"Rate the piece on every question before submitting: {', '.join(missing)} "
                                              "still open. Nothing was stored.")
        return
    try:
        with ApiClient.from_env() as api:
            api.rate(study_id, token, cid, {k: int(v) for k, v in answers.items() if v is not None})
    except ApiProblem as err:
        lead = SUBMIT_REFUSALS.get(err.code) or REFUSALS.get(err.code) or "The API refused the ratings; nothing was stored."
        st.session_state[FLASH] = ("warning", f"{lead} ({err.detail})")
        return
    except ApiError as err:
        st.session_state[FLASH] = ("error", f"Your ratings were not stored: {err}")
        return
    st.session_state[FLASH] = ("success", f"Your ratings of piece {position} are stored.")


# ---------------------------------------------------------------------- the researcher
def mean_sd(s: dict[str, Any]) -> str:
    if s["mean"] is None:
        return DASH
    return f"{s['mean']:.2f}" if s["sd"] is None else f"{s['mean']:.2f} ± {s['sd']:.2f}"


def share(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f} %"


def interval(e: dict[str, Any] | None) -> str:
    """An ICC and its interval; † marks an interval the F-based formulas give outside [−1, 1] or
    without the estimate in it, which they do with very few pieces or raters."""
    if e is None:
        return DASH
    if e["ci_low"] is None or e["ci_high"] is None:
        return f"{e['value']:.2f}"
    low, value, high = e["ci_low"], e["value"], e["ci_high"]
    broken = not (-1 <= low <= value <= high <= 1)
    return f"{value:.2f} [{low:.2f}, {high:.2f}]" + (" †" if broken else "")


def criteria_frame(analysis: dict[str, Any]) -> pd.DataFrame:
    """One row per criterion: ratings, mean ± SD, approval, ICC(2,1) and ICC(2,k) with their intervals."""
    rows = []
    for c in analysis["criteria"]:
        r = c["reliability"]
        threshold = f" (≥ {c['approval_threshold']})" if c["approval_threshold"] is not None else ""
        rows.append({"criterion": c["name"], "scale": f"{c['scale_min']}–{c['scale_max']}", "ratings": c["summary"]["n"],
                     "mean ± SD": mean_sd(c["summary"]), "approval": share(c["summary"]["approval"]) + threshold,
                     "ICC(2,1)": interval(r["icc2_1"]), "ICC(2,k)": interval(r["icc2_k"]),
                     "pieces × raters": f"{r['targets']} × {r['raters']}", "note": r["note"] or ""})
    return pd.DataFrame(rows)


def conditions_frame(analysis: dict[str, Any]) -> pd.DataFrame:
    """One row per criterion and condition (or model)."""
    return pd.DataFrame([{"criterion": c["name"], "condition": x["condition"], "pieces": x["pieces"], "ratings": x["summary"]["n"],
                          "mean ± SD": mean_sd(x["summary"]), "approval": share(x["summary"]["approval"]),
                          "ICC(2,k)": interval(x["reliability"]["icc2_k"])}
                         for c in analysis["criteria"] for x in c["conditions"]])


def show_table(api: ApiClient, study_id: str, token: str, layout: str, criteria: list[str], membership: str | None) -> None:
    try:
        table = api.study_table(study_id, token, layout, criteria=criteria, membership=membership)
    except ApiProblem as err:
        if err.code != "unknown-criterion":
            raise
        st.info(err.detail)
        return
    st.markdown(f"**{table['title']}**")
    st.table(pd.DataFrame(table["rows"], columns=table["columns"]))
    if table["note"]:
        st.caption(table["note"])


def show_seed_tables(api: ApiClient, study: Study, token: str, membership: str | None) -> None:
    st.subheader("The seed studies' tables, rebuilt from this study")
    names = [c["name"] for c in study["criteria"]]
    likert = [c["name"] for c in study["criteria"] if c["approval_threshold"] is not None]
    authenticity, criteria, satisfaction = st.tabs(["Authenticity and ICC(2,k)", "Criteria per model", "Satisfaction"])
    with authenticity:
        chosen = st.selectbox("Criterion", names, index=names.index("authenticity") if "authenticity" in names else 0,
                              key="listening_table_authenticity")
        show_table(api, study["study_id"], token, "authenticity", [chosen], membership)
    with criteria:
        picked = st.multiselect("Criteria", names, default=names, key="listening_table_criteria")
        if picked:
            show_table(api, study["study_id"], token, "criteria", picked, membership)
    with satisfaction:
        if not likert:
            st.info("No criterion of this study has an approval threshold (a Likert question): approval shares need one.")
        else:
            asked = st.multiselect("Questions", likert, default=likert, key="listening_table_satisfaction")
            if asked:
                show_table(api, study["study_id"], token, "satisfaction", asked, membership)


def show_researcher(api: ApiClient, study: Study, token: str) -> None:
    st.header(study["title"])
    cols = st.columns(5)
    cols[0].metric("State", study["state"])
    cols[1].metric("Pieces", sum(1 for p in study["pieces"] if not p["reference"]))
    cols[2].metric("Criteria", len(study["criteria"]))
    cols[3].metric("Raters", study["raters"])
    cols[4].metric("Ratings", study["ratings"])
    st.caption(f"Study `{study['study_id']}` · {'blind' if study['blind'] else 'not blind'} · "
               f"{'randomised per rater' if study['randomise'] else 'fixed order'} · created {study['created_at'][:19]}")
    with st.expander("Restricted works: a member token shows their ratings to members of their community"):
        membership = st.text_input("Member token", type="password", key="listening_member") or None
    results = api.study_results(study["study_id"], token, membership=membership)
    analysis = results["analysis"]
    level = round(100 * analysis["confidence"])
    st.subheader("Per criterion")
    st.dataframe(criteria_frame(analysis), hide_index=True, width="stretch")
    st.caption(f"Mean ± sample SD; approval: share of ratings at or above the criterion's threshold; ICC(2,1) and ICC(2,k): "
               f"two-way random effects, absolute agreement, single and average rater, with {level} % F-based intervals, "
               f"over the pieces every rater rated. {analysis['raters']} raters, {analysis['ratings']} ratings. † the interval "
               "breaks down (a bound outside [−1, 1], or the estimate outside it): too few pieces or raters to trust it.")
    if results["withheld_pieces"]:
        st.info(f"{results['withheld_pieces']} piece(s) of restricted works are left out of every figure: their ratings are "
                "shown only to members of their community.")
    st.subheader("Per condition or model")
    st.dataframe(conditions_frame(analysis), hide_index=True, width="stretch")
    with st.expander("Per piece"):
        st.dataframe(pd.DataFrame([{"piece": short(p["cid"]), "work": p["work_id"], "condition": p["condition"],
                                    "criterion": p["criterion"], "ratings": p["n"], "mean ± SD": mean_sd(dict(p)),
                                    "approval": share(p["approval"])} for p in results["pieces"]]),
                     hide_index=True, width="stretch")
    show_seed_tables(api, study, token, membership)
    st.subheader("Raters and the record")
    invite, store = st.columns(2)
    if invite.button("Invite a rater", icon=":material/person_add:", disabled=study["state"] == "closed"):
        inv = api.invite(study["study_id"], token)
        invite.markdown(f"Send this link (valid until {inv['expires'][:19]} UTC):")
        invite.code(f"listening?study={study['study_id']}&token={inv['token']}", language=None)
    if store.button("Store the results by CID", icon=":material/save:"):
        snap = api.store_results(study["study_id"], token)
        store.markdown(f"Stored as `{snap['cid']}` ({snap['size']:,} bytes); the summary to attest on chain:")
        store.json(snap["attestation"], expanded=False)
    st.caption(f"The analysis as shown has CID `{results['cid']}` (canonical JSON).")
    show_attestation(api, study, token)


def show_attestation(api: ApiClient, study: Study, token: str) -> None:
    """Anchor the closed study's results on chain, and each attestation's checks."""
    st.subheader("On chain")
    if study["state"] != "closed":
        st.caption("A study's results are anchored once it is closed: an attestation stays on chain for good.")
        return
    if st.button("Anchor the results on chain", icon=":material/link:"):
        try:
            done = api.attest(study["study_id"], token)
        except ApiProblem as err:
            refusal(err)
        else:
            if done["state"] == "anchored":
                st.success(f"Attestation {done['attestation_id']} in block {done['block']}, linking works {done['works']}.")
                if done.get("warning"):
                    st.caption(done["warning"])
            else:
                st.info("The service holds no key for you: sign this transaction with the attester's wallet and POST it back "
                        f"to /studies/{study['study_id']}/attestation as `signed`.")
                st.json(done["transaction"], expanded=False)
    try:
        found = api.attestations(study["study_id"], token)
    except ApiProblem as err:
        if err.code == "not-attested":
            st.caption("No attestation of these results yet.")
        else:
            refusal(err)
        return
    for a in found["attestations"]:
        mark = "verified" if a["ok"] else "**does not verify**"
        st.markdown(f"Attestation {a['attestation_id']} by `{a['attester']}`: {mark} — results `{short(a['results_cid'])}`, "
                    f"works {a['works']}")
        st.dataframe(pd.DataFrame(a["checks"]), hide_index=True, width="stretch")


def main() -> None:
    st.title("Listening room")
    creds = credentials()
    if creds is None:
        return
    study_id, token = creds
    with api_session() as api:
        try:
            study = api.study(study_id, token)
        except ApiProblem as err:
            if err.code != "not-permitted":  # a rater's token: the rater's view below
                refusal(err)
            show_rater(api, study_id, token)
            return
        show_researcher(api, study, token)


main()
