"""What every page shares: the API client for one run, errors shown as messages, and formats."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import streamlit as st

from dashboard.client import ApiClient, ApiProblem, ApiUnavailable, Content
from dashboard.media import MediaKind, classify

WEI_PER_ETH = 10**18
PPM = 1_000_000


@contextmanager
def api_session() -> Iterator[ApiClient]:
    """A client of the configured API for one run of a page; an API error ends the run with a message.

    A down API or a refused request is shown with `st.error` (the message says what to do),
    never as a traceback.
    """
    with refusals_shown(), ApiClient.from_env() as api:
        yield api


@contextmanager
def refusals_shown() -> Iterator[None]:
    """An API that is down or refuses a request, inside, ends the page's run with a message."""
    try:
        yield
    except ApiUnavailable as err:
        st.error(str(err), icon=":material/cloud_off:")
        st.stop()
    except ApiProblem as err:
        st.error(f"The API refused a request. {err}", icon=":material/error:")
        st.stop()


def eth(wei: int | str) -> str:
    """Wei as ETH, exactly (Decimal, trailing zeros dropped): `986000000000000000` → `0.986`."""
    value = Decimal(int(wei)) / WEI_PER_ETH
    text = format(value.normalize(), "f")
    return text


def eth_float(wei: int | str) -> float:
    """Wei as ETH for a chart axis only: tables and labels use `eth`, which is exact."""
    return float(Decimal(int(wei)) / WEI_PER_ETH)


def percent(ppm: int) -> str:
    """Parts per million as a percentage: 150000 → `15 %`."""
    value = (Decimal(ppm) / 10_000).normalize()
    return f"{format(value, 'f')} %"


def when(unix: float | None) -> str:
    """Unix seconds as UTC time, or a dash."""
    if unix is None:
        return "—"
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short(text: str | None, keep: int = 10) -> str:
    """A long hex address or CID shortened for a table cell: `bafkreied5x…y4f2y`."""
    if not text:
        return "—"
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-5:]}"


def played(api: ApiClient, cid: str, *, shown: str) -> tuple[Content, MediaKind]:
    """Fetch the content `cid`, caption it (`shown`: how the CID is written, its media type and
    size) and give a player when it is audio; the content and what it is."""
    content = api.content(cid)
    kind = classify(content.data, content.media_type)
    st.caption(f"`{shown}` · {kind.media_type} · {len(content.data):,} bytes")
    if kind.presentation == "audio":
        st.audio(content.data, format=kind.media_type)
    return content, kind
