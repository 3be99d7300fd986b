"""`heritage`: register, pay, audit and explore heritage works from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from core.cid import file_cid
from core.config import Settings
from core.errors import HeritageError

app = typer.Typer(help="Heritage Ledger: rights, provenance and royalties for intangible-heritage music.",
                  no_args_is_help=True)
console = Console()


@app.command()
def cid(file: Path = typer.Argument(..., help="Any file; streamed in bounded memory."),
        as_json: bool = typer.Option(False, "--json", help="Print {\"file\", \"cid\"} as JSON.")) -> None:
    """Print the CID that `ipfs add --cid-version=1 FILE` prints for the same file."""
    try:
        value = file_cid(file)
    except HeritageError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    print(json.dumps({"file": str(file), "cid": value}) if as_json else value)


@app.command()
def demo(data_dir: Path = typer.Option(Path(".data"), help="Where blocks, chain state and addresses are kept.")) -> None:
    """Run the end-to-end demo on the embedded defaults (anvil, local block store, Essen songs)."""
    from cli.demo import run

    settings = Settings(data_dir=data_dir, deployments_dir=data_dir / "deployments")
    try:
        code = run(settings, console)
    except HeritageError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
