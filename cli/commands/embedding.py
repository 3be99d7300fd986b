"""`heritage embedding map`: embedding maps of the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cli.common import console, stages
from core.errors import HeritageError

embedding_app = typer.Typer(help="Embedding maps of the catalogue: VGGish trained here, MFCC statistics, musicnn.",
                            no_args_is_help=True)


@embedding_app.command("map")
def embedding_map(per_tradition: int = typer.Option(40, min=6, help="Songs per tradition (the first by CID), split 70/30."),
                  epochs: int = typer.Option(10, min=1, help="Training epochs of the VGGish embedder."),
                  width: float = typer.Option(0.25, min=0.05, max=1.0, help="VGGish layer widths, as a share of the published."),
                  perplexity: float = typer.Option(30.0, min=2.0, help="t-SNE perplexity."),
                  out: Path = typer.Option(Path("reports"), help="Where embedding.md/.json and the t-SNE maps go."),
                  cache: Path = typer.Option(Path("cache/embedding"), help="Rendered songs, reused between runs.")) -> None:
    """Render songs of five traditions, train a VGGish-architecture embedder on some, embed the
    others (another soundfont family) with it and the baselines, and report silhouette and AMI of
    the traditions with 2-D and 3-D t-SNE maps."""
    from ml.representation.maps import Embedder, MapConfig, run, write_report
    from ml.representation.vggish import VggishConfig

    cfg = MapConfig(per_tradition=per_tradition, perplexity=perplexity, vggish=VggishConfig(width=width, epochs=epochs))
    extra: dict[str, Embedder] = {}
    from ml.representation import musicnn

    for name in ("MSD", "MTT"):
        try:
            model = musicnn.load(name)  # fetched once from PyPI and converted, then read from cache/models
        except HeritageError as err:
            console.print(f"[yellow]musicnn {name} left out: {err}[/yellow]")
            continue

        def pretrained(y: Any, sr: int, model: Any = model) -> Any:
            return musicnn.embed(model, y, sr=sr).mean(axis=0)

        extra[f"musicnn {name} (pretrained)"] = pretrained
    with stages() as say:
        report, spaces, items = run(cfg, cache_dir=cache, say=say, extra=extra)
        write_report(report, spaces, items, out)
    console.print((out / "embedding.md").read_text())
