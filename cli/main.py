"""`heritage`: register, pay, audit and explore heritage works from the command line.

One typer app; the commands live in cli/commands/, one module per capability (the chain node,
communities, works and derivatives, payments, disputes, audit, simulation, the service and the
demo, recognition, classification, embedding maps, score recognition, generation, tuning), and
cli/common.py holds what they share. Every command takes `--json` for scripts. Senders are the
node's unlocked accounts, named by index (`--from 1`) or address; on the embedded anvil these
are its development accounts.
"""

from __future__ import annotations

import typer

from cli.commands import (
    audit,
    classification,
    communities,
    disputes,
    embedding,
    generation,
    model,
    models,
    node,
    omr,
    payments,
    recognition,
    robustness,
    service,
    simulation,
    statements,
    tuning,
    works,
)

app = typer.Typer(help="Heritage Ledger: rights, provenance and royalties for intangible-heritage music.",
                  no_args_is_help=True)
for group, name in ((node.chain_app, "chain"), (communities.community_app, "community"), (works.work_app, "work"),
                    (works.derivative_app, "derivative"), (disputes.dispute_app, "dispute"),
                    (recognition.recognition_app, "recognition"), (robustness.robustness_app, "robustness"),
                    (classification.classification_app, "classification"),
                    (embedding.embedding_app, "embedding"), (omr.omr_app, "omr"), (generation.generation_app, "generation"),
                    (statements.statements_app, "statements"), (model.model_app, "model"),
                    (tuning.tune_app, "tune"), (models.models_app, "models")):
    app.add_typer(group, name=name)
for command in (payments.pay, payments.withdraw, audit.audit, audit.cid, simulation.simulate, service.demo, service.api,
                classification.classify, omr.transcribe, recognition.recognize, generation.generate):
    app.command()(command)


if __name__ == "__main__":
    app()
