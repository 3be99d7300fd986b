"""`heritage demo` and `heritage api`: the end-to-end demo and the HTTP service."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import (
    DataOpt,
    console,
    errors,
    settings_for,
)


def demo(data_dir: Path = DataOpt) -> None:
    """Run the end-to-end demo on the embedded defaults (anvil, local block store, Essen songs)."""
    from cli.demo import run

    with errors():
        code = run(settings_for(data_dir), console)
    raise typer.Exit(code)


def api(host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
        port: int = typer.Option(8000, help="Port to listen on."),
        demo: bool = typer.Option(False, "--demo", help="Sign for the embedded anvil's development accounts "
                                  "(POST /demo/sign; chain 31337 only)."),
        workers: int = typer.Option(1, min=1, help="Worker processes; they share the index, rate limits and relay lock "
                                    "through the index's database (HERITAGE_INDEX_URL for PostgreSQL)."),
        data_dir: Path = DataOpt) -> None:
    """Serve the HTTP API (FastAPI) over the chain, the index and the content store; /docs has every endpoint."""
    import uvicorn

    from api.app import create_app
    from api.workers import proxy_options, serve

    settings = settings_for(data_dir).model_copy(update={"api_demo": demo or settings_for(data_dir).api_demo})
    console.print(f"serving on http://{host}:{port} (docs at /docs){' in demo mode' if settings.api_demo else ''}"
                  f"{f' with {workers} workers' if workers > 1 else ''}")
    if workers > 1:
        serve(settings, host=host, port=port, workers=workers)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", **proxy_options(settings))
