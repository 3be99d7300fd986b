"""`heritage work register|list|show|protocol|split` and `heritage derivative register|approve`: heritage works and derivatives."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from chain import gateway as gw
from chain.types import PRESETS, DerivativeParams, HeritageParams, Protocol, everything_to, new_salt, parameters_hash, season_window
from cli.common import DataOpt, FromOpt, JsonOpt, connected, console, emit, errors, sender_address, split_spec, stored_content
from core.blockstore import open_store
from core.cid import from_text, to_text
from core.errors import InputError
from core.manifest import DerivativeManifest, HeritageManifest, Recording, Source, make, to_bytes
from core.types import CommunityId, Ppm, WorkId, WorkStatus

work_app = typer.Typer(help="Heritage works.", no_args_is_help=True)


derivative_app = typer.Typer(help="Derivatives: register, approve, reject.", no_args_is_help=True)


@work_app.command("register")
def work_register(file: Path, community: int = typer.Option(..., help="Community id."),
                  protocol: str = typer.Option("open", help=f"Protocol preset: {', '.join(PRESETS)}."),
                  floor_ppm: int = typer.Option(100_000, help="Share every derivative must route upstream (ppm)."),
                  labels: int = typer.Option(0, help="Local Contexts label bitmap (contracts/README.md)."),
                  title: str = typer.Option("", help="Title for the manifest (default: the file name)."),
                  tradition: str = typer.Option("", help="Tradition, e.g. 'Han Chinese folk song'."),
                  region: str = typer.Option("", help="Region or place of origin."),
                  language: str = typer.Option("", help="Language of the text, if any."),
                  instrument: list[str] = typer.Option([], help="Instrument or voice; repeat."),
                  performer: list[str] = typer.Option([], help="Performer; repeat."),
                  restrictions: str = typer.Option("", help="Conditions of use, in the community's words."),
                  split: list[str] = typer.Option([], help="ADDRESS:PPM; repeat. Default: all to the treasury."),
                  season: str = typer.Option("", help="MM-DD:MM-DD window in which derivatives may register (UTC)."),
                  salt: str = typer.Option("", help="Hex salt of the commitment: give the one the first steward's "
                                           "pending registration printed to approve it (k-of-n)."),
                  sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Store FILE, write its manifest and register it as a heritage work (sender: a steward). The
    registration commits first and reveals in a later block. A split other than everything to the
    treasury, in a k-of-n community, is registered at the k-th steward's identical call (same
    options and --salt): until then an approval is recorded."""
    if protocol not in PRESETS:
        raise typer.BadParameter(f"unknown protocol {protocol!r}; choose one of {', '.join(PRESETS)}")
    with connected(data_dir) as c, errors():
        store = open_store(c.settings)
        content = stored_content(store, file)
        existing = gw.work_by_content(c, content)
        if existing:
            emit(as_json, {"work": existing, "existing": True}, f"already registered as work {existing}")
            return
        registered = gw.community(c, community)
        manifest = from_text(store.put_bytes(to_bytes(make(
            HeritageManifest, title=title or file.stem, content_cid=to_text(content), community=registered.name,
            community_id=community, tradition=tradition or None, region=region or None, language=language or None,
            instruments=tuple(instrument), performers=tuple(performer), restrictions=restrictions or None,
            recording=Recording(media_type=mimetypes.guess_type(file.name)[0]), source=Source(reference=file.name),
        ))))
        proto = Protocol.preset(protocol, floor_ppm=Ppm(floor_ppm), labels=labels, labels_version=1,
                                season=season_spec(season))
        salt_bytes = bytes.fromhex(salt.removeprefix("0x")) if salt else new_salt()
        if len(salt_bytes) != 32:
            raise InputError(f"--salt {salt!r}: give the 32-byte hex salt the pending registration printed")
        params = HeritageParams(CommunityId(community), content, manifest, proto, split_spec(c, split, registered.treasury),
                                salt_bytes)
        work = gw.register_heritage(c, params, sender=sender_address(c, sender))
        if work is None:
            emit(as_json, {"work": None, "pending": True, "salt": "0x" + salt_bytes.hex()},
                 f"approval recorded; {registered.threshold} stewards must register it: the others run the same command "
                 f"with --salt 0x{salt_bytes.hex()}")
            return
        emit(as_json, {"work": work}, f"work {work} registered")


def season_spec(text: str) -> int:
    """`MM-DD:MM-DD` as `Protocol.season`; "" is all year."""
    if not text:
        return 0
    try:
        (m1, d1), (m2, d2) = (tuple(int(x) for x in part.split("-")) for part in text.split(":"))
        return season_window(m1, d1, m2, d2)
    except ValueError as exc:
        raise InputError(f"--season {text!r}: write MM-DD:MM-DD, for example 06-01:08-31 ({exc})") from exc


@work_app.command("protocol")
def work_protocol(work: int, protocol: str = typer.Option(..., help=f"Protocol preset: {', '.join(PRESETS)}."),
                  floor_ppm: int = typer.Option(100_000, help="Share every derivative must route to this root (ppm)."),
                  labels: int = typer.Option(0, help="Local Contexts label bitmap."),
                  season: str = typer.Option("", help="MM-DD:MM-DD window for derivatives (UTC)."),
                  sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Change a heritage work's protocol (sender: a steward). Tightening applies at once; loosening
    records an approval and applies at the community's threshold."""
    if protocol not in PRESETS:
        raise typer.BadParameter(f"unknown protocol {protocol!r}; choose one of {', '.join(PRESETS)}")
    with connected(data_dir) as c, errors():
        proto = Protocol.preset(protocol, floor_ppm=Ppm(floor_ppm), labels=labels, season=season_spec(season))
        applied = gw.set_protocol(c, WorkId(work), proto, sender=sender_address(c, sender))
        emit(as_json, {"work": work, "applied": applied},
             "protocol changed" if applied else "approval recorded, not applied yet: another steward must approve it")


@work_app.command("split")
def work_split(work: int, split: list[str] = typer.Option(..., help="ADDRESS:PPM; repeat."),
               sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Change a work's split: a heritage work's by k-of-n stewards, a derivative's by its owner."""
    with connected(data_dir) as c, errors():
        applied = gw.set_split(c, WorkId(work), split_spec(c, split, ""), sender=sender_address(c, sender))
        emit(as_json, {"work": work, "applied": applied},
             "split changed" if applied else "approval recorded, not applied yet: another steward must approve it")


@work_app.command("list")
def work_list(community: int | None = typer.Option(None, help="Only works of (or descending from) this community."),
              kind: str | None = typer.Option(None, help="heritage, restricted or derivative."),
              status: str | None = typer.Option(None, help="pending, active, restricted or rejected."),
              offset: int = typer.Option(0, min=0, help="Skip this many works."),
              limit: int = typer.Option(50, min=1, help="Show at most this many works."),
              data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """The catalogue, from the event index: id, kind, status, CIDs, lineage and payments."""
    from chain.catalogue import load

    with connected(data_dir) as c, errors():
        cat = load(c.index())
        if community is not None:
            cat.community(community)
        rows = cat.select(community=community, kind=kind, status=status, offset=offset, limit=limit)
        if as_json:
            print(json.dumps({"total": len(cat.works), "last_block": cat.last_block, "works": [r.to_json() for r in rows]}))
            return
        t = Table(title=f"works {offset + 1}..{offset + len(rows)} (index at block {cat.last_block})")
        for col in ("id", "kind", "status", "content", "parents", "payments", "paid ETH"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r.work_id), r.kind + (" (model)" if r.model_cid else ""), r.status + (", disputed" if r.disputed else ""),
                      r.content_cid or "-", ",".join(map(str, r.parents)) or "-", str(r.payments), f"{r.paid_wei / 10**18:.4f}")
        console.print(t)


@work_app.command("show")
def work_show(work: int, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """One work from the index: its record, ancestors, heritage roots and communities."""
    from chain.catalogue import load

    with connected(data_dir) as c, errors():
        cat = load(c.index())
        row = cat.work(work)
        info = {**row.to_json(), "ancestors": cat.ancestors(work), "communities": sorted(cat.communities_of(work))}
        emit(as_json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))


@derivative_app.command("register")
def derivative_register(file: Path, parent: list[str] = typer.Option(..., help="PARENT_ID:PPM routed upstream; repeat."),
                        title: str = typer.Option("", help="Title for the manifest (default: the file name)."),
                        model_cid: str = typer.Option("", help="CID of the model that made it (machine-made)."),
                        model_architecture: str = typer.Option("", help="The model's architecture (machine-made)."),
                        seed: int | None = typer.Option(None, help="The generation seed (machine-made)."),
                        param: list[str] = typer.Option([], help="Generation parameter KEY=VALUE; repeat."),
                        commercial: bool = typer.Option(False, help="Declare commercial use."),
                        sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Register FILE as a derivative; pending if a root community requires consent."""
    with connected(data_dir) as c, errors():
        store = open_store(c.settings)
        content = stored_content(store, file)
        ids, ppms = [], []
        for item in parent:
            pid, _, ppm = item.partition(":")
            if not (pid.isdigit() and ppm.isdigit()):
                raise InputError(f"--parent {item!r}: write PARENT_ID:PPM, for example 3:200000")
            ids.append(int(pid))
            ppms.append(int(ppm))
        me = sender_address(c, sender)
        model = from_text(model_cid) if model_cid else b""
        parameters = dict(item.partition("=")[::2] for item in param)
        maker: dict[str, Any] = {"type": "person", "address": me}
        params_hash = b"\0" * 32
        if model_cid:
            maker = {"type": "model", "model_cid": model_cid, "architecture": model_architecture or "unspecified",
                     "seed": seed, "parameters": parameters, "operator": me}
            params_hash = parameters_hash(parameters, seed)
        manifest = from_text(store.put_bytes(to_bytes(make(
            DerivativeManifest, title=title or file.stem, content_cid=to_text(content), maker=maker,
            parents=tuple({"work_id": i, "ppm": p} for i, p in zip(ids, ppms, strict=True)),
        ))))
        params = DerivativeParams(content, manifest, tuple(WorkId(i) for i in ids), tuple(Ppm(p) for p in ppms),
                                  everything_to(me), model, params_hash, commercial)
        work = gw.register_derivative(c, params, sender=me)
        pending = gw.status_of(c, work) == WorkStatus.PENDING
        emit(as_json, {"work": work, "pending": pending},
              f"derivative {work} registered" + (" (pending consent)" if pending else ""))


@derivative_app.command("approve")
def derivative_approve(work: int, community: int = typer.Option(..., help="The consenting community."),
                       sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Approve a pending derivative as one of the community's stewards."""
    with connected(data_dir) as c, errors():
        active = gw.approve_derivative(c, WorkId(work), CommunityId(community), sender=sender_address(c, sender)) == WorkStatus.ACTIVE
        emit(as_json, {"work": work, "active": active}, "approved" + (": now active" if active else ""))


@derivative_app.command("reject")
def derivative_reject(work: int, community: int = typer.Option(..., help="The refusing community."),
                      sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Refuse a pending derivative as one of the community's stewards (POST /derivatives/{id}/rejections in the API)."""
    with connected(data_dir) as c, errors():
        status = gw.reject_derivative(c, WorkId(work), CommunityId(community), sender=sender_address(c, sender))
        rejected = status == WorkStatus.REJECTED
        emit(as_json, {"work": work, "rejected": rejected}, "refused" + (": now rejected" if rejected else ""))
