"""FastAPI dependencies: the settings and the running service's state, passed explicitly."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.state import ApiState
from core.config import Settings


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.heritage
    return state


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


State = Annotated[ApiState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
