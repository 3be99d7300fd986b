"""The work selector the pages share: every work of the catalogue, the choice kept in the URL
(`?work=ID`) so that a link can name it."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.client import ApiClient
from dashboard.schema import Work


def pick_work(api: ApiClient, *, key: str, default: Callable[[list[Work]], int] | None = None) -> Work | None:
    """The work chosen in the selector `key`: first the one named in the URL, else `default(works)`
    (else the lowest id); None, with a note, while the catalogue is empty."""
    works = api.all_works()
    if not works:
        st.info("The catalogue is empty: register a heritage work first (`heritage demo` makes a sample catalogue).")
        return None
    by_id = {w["work_id"]: w for w in works}
    ids = sorted(by_id)
    asked = st.query_params.get("work", "")
    first = int(asked) if asked.isdigit() and int(asked) in by_id else (default(works) if default else ids[0])
    chosen: int = st.selectbox("Work", ids, index=ids.index(first), key=key,
                               format_func=lambda i: f"#{i} · {by_id[i]['kind']} · {by_id[i]['status']}")
    st.query_params["work"] = str(chosen)
    return by_id[chosen]
