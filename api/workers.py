"""`heritage api --workers N`: N uvicorn worker processes behind one port. The parent connects
first (starts or attaches to the node, deploys, replays the journal, migrates and fills the
index), then each worker builds the app from the same settings, passed through the environment
(uvicorn imports `api.workers:app` by name in each process). The workers share the index, the
rate limiter and the relay lock through the index's database (api/shared.py).

Forwarded headers: `X-Forwarded-For` is believed only from `HERITAGE_TRUSTED_PROXIES` (default:
nobody, so a client cannot pick the address its rate limit is counted under)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from core.config import Settings


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for forwarded headers: read only from the configured proxies."""
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def app() -> FastAPI:
    """A worker's app (uvicorn's factory), from the settings the parent put in the environment."""
    from api.app import create_app

    return create_app(Settings())


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    from chain.client import connect

    chain = connect(settings)  # the node and the deployment exist before any worker asks for them
    try:
        chain.index().close()
        os.environ.update({"HERITAGE_DATA_DIR": str(settings.data_dir), "HERITAGE_DEPLOYMENTS_DIR": str(settings.deployments_dir),
                           "HERITAGE_API_DEMO": "true" if settings.api_demo else "false"})
        uvicorn.run("api.workers:app", factory=True, host=host, port=port, workers=workers, log_level="warning",
                    **proxy_options(settings))
    finally:
        chain.close()
