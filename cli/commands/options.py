"""Options several training commands share, declared once so their defaults and help cannot drift."""

from __future__ import annotations

import typer

ProtocolsOpt = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                       "(asks the chain in --data-dir; starts it if needed).")
DnnLayersOpt = typer.Option(5, min=1, help="Hidden layers of the DNN-HMM's network.")
DnnWidthOpt = typer.Option(1024, min=4, help="Units per hidden layer.")
DnnEpochsOpt = typer.Option(8, min=1, help="Training epochs of the network.")
