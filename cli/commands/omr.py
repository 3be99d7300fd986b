"""`heritage omr evaluate` and `heritage transcribe`: score recognition, transcriptions registered as derivatives."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from chain import gateway as gw
from cli.commands.options import loaded_by_default, model_file
from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, sender_address, stages
from core.blockstore import open_store
from core.cid import file_cid
from core.errors import InputError

omr_app = typer.Typer(help="Score recognition: the seed's reader (Haar, contour refinement, SRU, focal CTC) and a CRNN.",
                      no_args_is_help=True)


@omr_app.command("evaluate")
def omr_evaluate(pieces: int = typer.Option(120, min=8, help="Essen songs (the first by CID), split 70/15/15 by piece."),
                 epochs: int = typer.Option(10, min=1, help="Training epochs of each model."),
                 copies: int = typer.Option(1, min=0, help="Scanned-looking copies of every line."),
                 out: Path = typer.Option(Path("reports"), help="Where omr.md/.json go."),
                 cache: Path = typer.Option(Path("cache/omr"), help="Engraved lines, reused between runs."),
                 save: Path | None = typer.Option(Path("cache/models"),
                                                  help="Where omr-seed.pt and omr-crnn.pt go (`heritage transcribe` reads them)."),
                 ) -> None:
    """Engrave songs line by line, train both readers on some, and report symbol error rate and
    note-level precision, recall and F1 on the others' lines, clean and scanned-looking."""
    from ml.omr.experiment import OmrExperimentConfig, run, write_report
    from ml.omr.model import OmrConfig

    cfg = OmrExperimentConfig(pieces=pieces, copies=copies, model=OmrConfig(epochs=epochs))
    with stages() as say:
        write_report(run(cfg, cache_dir=cache, say=say, save_dir=save), out)
    console.print((out / "omr.md").read_text())


def transcribe(image: Path = typer.Argument(..., help="A score image: a page or one staff line (PNG, JPEG, TIFF)."),
               model: Path | None = typer.Option(None, help="A reader `omr evaluate` saved; " + loaded_by_default("omr") + "."),
               out: Path = typer.Option(Path("transcriptions"), help="Where IMAGE's .musicxml, .mid and .tokens.json go."),
               work: int | None = typer.Option(None, help="The registered work the score belongs to "
                                                          "(default: the work whose content is IMAGE)."),
               register: bool = typer.Option(True, "--register/--no-register",
                                             help="Store the transcription by CID and register it as a derivative."),
               upstream_ppm: int = typer.Option(200_000, min=0, max=1_000_000,
                                                help="Share of every payment routed to the score's work, ppm."),
               sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Read the staves of IMAGE with the score reader and write MusicXML and MIDI; then store the
    MusicXML by CID (the MIDI as its rendition) and register it as a machine-made derivative of
    the score's work. A work whose protocol forbids ML use refuses it before anything is sent; a
    consent-required one leaves it pending; rerunning is safe."""
    from ml.studio import transcribe as read_score

    with errors():
        model = model_file(model, "omr")
        t = read_score(image, model=model, out=out)  # the API's transcription job calls the same function
    xml, mid, notes = t.musicxml, t.midi, t.notes
    payload: dict[str, Any] = {"staves": t.staves, "notes": notes, "ignored_tokens": t.ignored, "musicxml": str(xml),
                               "midi": str(mid), "musicxml_cid": file_cid(xml), "midi_cid": file_cid(mid)}
    text = (f"{t.staves} staves, {notes} notes ({t.ignored} tokens ignored) → {xml}, {mid}")
    if register:
        payload.update(_register_transcription(image, model, xml, mid, t.staves, t.ignored, t.metrics, kind=t.kind,
                                               work=work,
                                               upstream_ppm=upstream_ppm, sender=sender, data_dir=data_dir))
        text += (f"\nregistered as work {payload['work']}" + (" (already registered)" if payload["existing"] else "") +
                 f", a derivative of work {payload['parent']}" +
                 "".join(f"\nawaiting consent: `heritage derivative approve {a['work']} --community {a['community']}` by its "
                         "stewards" for a in payload["awaiting"]))
    emit(as_json, payload, text)


def _register_transcription(image: Path, model: Path, xml: Path, mid: Path, staves: int, ignored: int,
                            metrics: Mapping[str, float], *, kind: str, work: int | None, upstream_ppm: int, sender: str,
                            data_dir: Path) -> dict[str, Any]:
    from chain.derive import register_output

    image_cid = file_cid(image)
    with connected(data_dir) as c, errors():
        if work is None:
            work = gw.work_by_content(c, image_cid)
            if work is None:
                raise InputError(f"the image {image} ({image_cid}) is not a registered work, so the transcription has no "
                                 "parent: pass --work N (the score's work), register the image first (`heritage work "
                                 "register IMAGE --community ID`), or use --no-register")
        elif not 1 <= work <= gw.work_count(c):
            raise InputError(f"work {work} does not exist: `heritage work list` shows the registered works")
        score_cid = gw.work(c, work).content_cid or ""
        d = register_output(c, open_store(c.settings), content=xml, renditions={"audio/midi": mid}, model_file=model,
                            architecture=f"omr/{kind}", made_from=[score_cid], operator=sender_address(c, sender),
                            title=f"Transcription of {image.name}", upstream_ppm=upstream_ppm, metrics=metrics,
                            parameters={"image_cid": image_cid, "staves": staves, "ignored_tokens": ignored,
                                        "decoding": "greedy CTC"},
                            description=f"MusicXML read from the score image {image_cid} by the OMR model (maker.model_cid), "
                                        f"{staves} staves; renditions hold the MIDI.")
    return {"work": d.model_work, "parent": work, "existing": d.existing, "pending": d.pending,
            "manifest_cid": d.manifest_cid, "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting]}
