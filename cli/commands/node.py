"""`heritage chain up|status|down`: the embedded EVM node and the deployment."""

from __future__ import annotations

from pathlib import Path

import typer

from chain import gateway as gw
from cli.common import DataOpt, JsonOpt, connected, emit, errors, settings_for

chain_app = typer.Typer(help="Start, inspect and stop the embedded EVM node.", no_args_is_help=True)


@chain_app.command("up")
def chain_up(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Start anvil on 127.0.0.1 (state kept in the data directory) and deploy the contracts."""
    from chain.node import up

    with errors():
        url = up(settings_for(data_dir))
    with connected(data_dir) as c:
        emit(as_json, {"url": url, **c.deployment.to_json()},
              f"node at {url}; registry {c.deployment.registry}, router {c.deployment.router}")


@chain_app.command("status")
def chain_status(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Show the node, the deployment and the catalogue's size."""
    from chain.node import running_url

    s = settings_for(data_dir)
    url = s.rpc_url or running_url(s)
    if url is None:
        emit(as_json, {"running": False}, "no node is running: `heritage chain up` starts one")
        raise typer.Exit(1)
    with connected(data_dir) as c:
        info = {"running": True, "url": url, "block": int(c.w3.eth.block_number), **c.deployment.to_json(),
                "communities": gw.community_count(c), "works": gw.work_count(c)}
        emit(as_json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))


@chain_app.command("down")
def chain_down(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Stop the node `chain up` started (its state stays on disk for the next `up`)."""
    from chain.node import down

    stopped = down(settings_for(data_dir))
    emit(as_json, {"stopped": stopped}, "stopped" if stopped else "no node was running")
