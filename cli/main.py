"""`heritage`: register, pay, audit and explore heritage works from the command line.

One typer app; the commands live in cli/commands/, one module per capability (the chain node,
communities, works and derivatives, payments, disputes, audit, simulation, the service and the
demo, recognition, classification, embedding maps, score recognition, generation, tuning), and
cli/common.py holds what they share. Every command takes `--json` for scripts. Senders are the
node's unlocked accounts, named by index (`--from 1`) or address; on the embedded anvil these
are its development accounts.

Commands are named here and imported only when chosen (cli/lazy.py): a command's start-up costs
its own imports, not every capability's.
"""

from __future__ import annotations

import typer

from cli.lazy import lazy_group

_C = "cli.commands."
COMMANDS: dict[str, str] = {
    "pay": f"{_C}payments:pay", "withdraw": f"{_C}payments:withdraw", "audit": f"{_C}audit:audit",
    "cid": f"{_C}audit:cid", "simulate": f"{_C}simulation:simulate", "demo": f"{_C}service:demo",
    "api": f"{_C}service:api", "classify": f"{_C}classification:classify", "transcribe": f"{_C}omr:transcribe",
    "recognize": f"{_C}recognition:recognize", "generate": f"{_C}generation:generate",
    "chain": f"{_C}node:chain_app", "community": f"{_C}communities:community_app", "work": f"{_C}works:work_app",
    "derivative": f"{_C}works:derivative_app", "dispute": f"{_C}disputes:dispute_app",
    "recognition": f"{_C}recognition:recognition_app", "robustness": f"{_C}robustness:robustness_app",
    "classification": f"{_C}classification:classification_app", "embedding": f"{_C}embedding:embedding_app",
    "omr": f"{_C}omr:omr_app", "generation": f"{_C}generation:generation_app",
    "statements": f"{_C}statements:statements_app", "model": f"{_C}model:model_app", "tune": f"{_C}tuning:tune_app",
    "models": f"{_C}models:models_app",
}
"""Command or group name → "module:attribute" (a function or a typer app), in the order of `--help`."""

app = typer.Typer(help="Heritage Ledger: rights, provenance and royalties for intangible-heritage music.",
                  no_args_is_help=True, cls=lazy_group(COMMANDS))


@app.callback()
def heritage() -> None:
    """The commands are named in COMMANDS; typer needs a callback for a group with none registered."""


if __name__ == "__main__":
    app()
