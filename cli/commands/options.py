"""Options several training commands share, declared once so their defaults and help cannot drift."""

from __future__ import annotations

from pathlib import Path

import typer

from core.errors import InputError

ProtocolsOpt = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                       "(asks the chain in --data-dir; starts it if needed).")
DnnLayersOpt = typer.Option(5, min=1, help="Hidden layers of the DNN-HMM's network.")
DnnWidthOpt = typer.Option(1024, min=4, help="Units per hidden layer.")
DnnEpochsOpt = typer.Option(8, min=1, help="Training epochs of the network.")


def model_file(given: Path | None, kind: str) -> Path:
    """The model a command loads: the path the user gave, else `ml.defaults.default_model(kind)` (the
    user's trained cache/models file first, then the shipped models/ one), as an InputError when neither exists."""
    if given is not None:
        return given
    from ml.defaults import NoModel, default_model

    try:
        return default_model(kind)
    except NoModel as err:
        raise InputError(str(err)) from err


def loaded_by_default(kind: str) -> str:
    """The help text of a model option whose default is resolved by `model_file`."""
    from ml.defaults import FILES

    return f"default: cache/models/{FILES[kind]} when you trained one, else the shipped models/{FILES[kind]}"
