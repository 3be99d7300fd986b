"""`heritage`: register, pay, audit and explore heritage works from the command line.

Every command takes `--json` for scripts. Senders are the node's unlocked accounts, named by
index (`--from 1`) or address; on the embedded anvil these are its development accounts.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from chain.client import Chain, connect
from core.blockstore import ContentStore, open_store
from core.cid import file_cid, from_text, to_text
from core.config import Settings
from core.errors import HeritageError, InputError
from core.manifest import DerivativeManifest, HeritageManifest, Recording, Source, make, to_bytes
from core.types import ETH, PPM
from core.types import Progress as ProgressFn

app = typer.Typer(help="Heritage Ledger: rights, provenance and royalties for intangible-heritage music.",
                  no_args_is_help=True)
chain_app = typer.Typer(help="Start, inspect and stop the embedded EVM node.", no_args_is_help=True)
community_app = typer.Typer(help="Communities and their stewards.", no_args_is_help=True)
work_app = typer.Typer(help="Heritage works.", no_args_is_help=True)
derivative_app = typer.Typer(help="Derivatives: register, approve.", no_args_is_help=True)
dispute_app = typer.Typer(help="Misappropriation disputes.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(community_app, name="community")
app.add_typer(work_app, name="work")
app.add_typer(derivative_app, name="derivative")
app.add_typer(dispute_app, name="dispute")
console = Console()

JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")
FromOpt = typer.Option("0", "--from", help="Sender: an unlocked account's index or address.")
DataOpt = typer.Option(Path(".data"), "--data-dir", envvar="HERITAGE_DATA_DIR", help="Data directory.")


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, deployments_dir=data_dir / "deployments")


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        print(json.dumps(payload))
    else:
        console.print(text)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except HeritageError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err


@contextmanager
def _stages() -> Iterator[ProgressFn]:
    """Errors handled as `_errors` does, and a rich progress display with one bar per stage; yields
    the `say(stage, done, total)` callback the long ML runs report to."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with _errors(), Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console) as progress:
        tasks: dict[str, Any] = {}

        def say(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done)

        yield say


@contextmanager
def _chain(data_dir: Path) -> Iterator[Chain]:
    with _errors():
        c = connect(_settings(data_dir))
        try:
            yield c
        finally:
            c.close()


def _sender(c: Chain, who: str) -> str:
    if who.isdigit():
        accounts = c.accounts()
        if int(who) >= len(accounts):
            raise InputError(f"--from {who}: there are {len(accounts)} accounts to send from"
                             + (" (HERITAGE_PRIVATE_KEY's)" if c.signer else " (the node's unlocked ones)"))
        return str(accounts[int(who)])
    return str(c.w3.to_checksum_address(who))


def _split(c: Chain, spec: list[str], default: str) -> list[tuple[str, int]]:
    """`ADDRESS:PPM` items; no items means everything to `default`."""
    if not spec:
        return [(default, PPM)]
    out = []
    for item in spec:
        address, _, ppm = item.partition(":")
        if not ppm.isdigit():
            raise InputError(f"--split {item!r}: write ADDRESS:PPM, for example 0xabc…:600000")
        out.append((_sender(c, address), int(ppm)))
    return out


def _content(store: ContentStore, path: Path) -> bytes:
    return from_text(store.put_file(path))


# ---------------------------------------------------------------------- chain
@chain_app.command("up")
def chain_up(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Start anvil on 127.0.0.1 (state kept in the data directory) and deploy the contracts."""
    from chain.node import up

    with _errors():
        url = up(_settings(data_dir))
    with _chain(data_dir) as c:
        _emit(as_json, {"url": url, **c.deployment.to_json()},
              f"node at {url}; registry {c.deployment.registry}, router {c.deployment.router}")


@chain_app.command("status")
def chain_status(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Show the node, the deployment and the catalogue's size."""
    from chain.node import running_url

    s = _settings(data_dir)
    url = s.rpc_url or running_url(s)
    if url is None:
        _emit(as_json, {"running": False}, "no node is running: `heritage chain up` starts one")
        raise typer.Exit(1)
    with _chain(data_dir) as c:
        reg = c.registry.functions
        info = {"running": True, "url": url, "block": int(c.w3.eth.block_number), **c.deployment.to_json(),
                "communities": int(reg.communityCount().call()), "works": int(reg.workCount().call())}
        _emit(as_json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))


@chain_app.command("down")
def chain_down(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Stop the node `chain up` started (its state stays on disk for the next `up`)."""
    from chain.node import down

    stopped = down(_settings(data_dir))
    _emit(as_json, {"stopped": stopped}, "stopped" if stopped else "no node was running")


# ---------------------------------------------------------------------- communities and works
@community_app.command("register")
def community_register(name: str, steward: list[str] = typer.Option(..., help="Steward address or index; repeat."),
                       threshold: int = typer.Option(1, help="Approvals needed (k of n)."),
                       treasury: str = typer.Option(..., help="Treasury address or index."),
                       sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Register a community with its stewards, k-of-n threshold and treasury."""
    with _chain(data_dir) as c, _errors():
        stewards = [_sender(c, s) for s in steward]
        c.send(c.registry.functions.registerCommunity(name, stewards, threshold, _sender(c, treasury)),
               _sender(c, sender))
        cid = int(c.registry.functions.communityCount().call())
        _emit(as_json, {"community": cid}, f"community {cid} registered")


@community_app.command("list")
def community_list(data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Communities, their stewards and how many heritage works each registered (from the index)."""
    from chain.catalogue import load

    with _chain(data_dir) as c, _errors():
        cat = load(c.index())
        rows = list(cat.communities.values())
        if as_json:
            print(json.dumps([vars(r) for r in rows]))
            return
        t = Table(title=f"communities (index at block {cat.last_block})")
        for col in ("id", "name", "stewards", "k", "treasury", "works"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r.community_id), r.name, str(len(r.stewards)), str(r.threshold), r.treasury, str(r.works))
        console.print(t)


PRESETS = {
    "open": (True, False, True, True, True, False),
    "consent": (True, True, True, True, True, False),
    "no-ml": (True, False, True, False, True, False),
    "no-derivatives": (False, False, False, False, True, False),
}


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
                  sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Store FILE, write its manifest and register it as a heritage work (sender: a steward)."""
    if protocol not in PRESETS:
        raise typer.BadParameter(f"unknown protocol {protocol!r}; choose one of {', '.join(PRESETS)}")
    with _chain(data_dir) as c, _errors():
        store = open_store(c.settings)
        content = _content(store, file)
        existing = int(c.registry.functions.workByContent(content).call())
        if existing:
            _emit(as_json, {"work": existing, "existing": True}, f"already registered as work {existing}")
            return
        name, _, _, treasury, _ = c.registry.functions.communityOf(community).call()
        manifest = from_text(store.put_bytes(to_bytes(make(
            HeritageManifest, title=title or file.stem, content_cid=to_text(content), community=name,
            community_id=community, tradition=tradition or None, region=region or None, language=language or None,
            instruments=tuple(instrument), performers=tuple(performer), restrictions=restrictions or None,
            recording=Recording(media_type=mimetypes.guess_type(file.name)[0]), source=Source(reference=file.name),
        ))))
        proto = (*PRESETS[protocol], floor_ppm, labels, 1)
        params = (community, content, manifest, proto, _split(c, split, str(treasury)))
        c.send(c.registry.functions.registerHeritageWork(params), _sender(c, sender))
        work = int(c.registry.functions.workCount().call())
        _emit(as_json, {"work": work}, f"work {work} registered")


@work_app.command("list")
def work_list(community: int | None = typer.Option(None, help="Only works of (or descending from) this community."),
              kind: str | None = typer.Option(None, help="heritage, restricted or derivative."),
              status: str | None = typer.Option(None, help="pending, active, restricted or rejected."),
              offset: int = typer.Option(0, min=0, help="Skip this many works."),
              limit: int = typer.Option(50, min=1, help="Show at most this many works."),
              data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """The catalogue, from the event index: id, kind, status, CIDs, lineage and payments."""
    from chain.catalogue import load

    with _chain(data_dir) as c, _errors():
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

    with _chain(data_dir) as c, _errors():
        cat = load(c.index())
        row = cat.work(work)
        info = {**row.to_json(), "ancestors": cat.ancestors(work), "communities": sorted(cat.communities_of(work))}
        _emit(as_json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))


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
    with _chain(data_dir) as c, _errors():
        store = open_store(c.settings)
        content = _content(store, file)
        ids, ppms = [], []
        for item in parent:
            pid, _, ppm = item.partition(":")
            if not (pid.isdigit() and ppm.isdigit()):
                raise InputError(f"--parent {item!r}: write PARENT_ID:PPM, for example 3:200000")
            ids.append(int(pid))
            ppms.append(int(ppm))
        me = _sender(c, sender)
        model = from_text(model_cid) if model_cid else b""
        parameters = dict(item.partition("=")[::2] for item in param)
        maker: dict[str, Any] = {"type": "person", "address": me}
        params_hash = b"\0" * 32
        if model_cid:
            maker = {"type": "model", "model_cid": model_cid, "architecture": model_architecture or "unspecified",
                     "seed": seed, "parameters": parameters, "operator": me}
            params_hash = hashlib.sha256(json.dumps({"seed": seed, **parameters}, sort_keys=True).encode()).digest()
        manifest = from_text(store.put_bytes(to_bytes(make(
            DerivativeManifest, title=title or file.stem, content_cid=to_text(content), maker=maker,
            parents=tuple({"work_id": i, "ppm": p} for i, p in zip(ids, ppms, strict=True)),
        ))))
        params = (content, manifest, ids, ppms, [(me, PPM)], model, params_hash, commercial)
        c.send(c.registry.functions.registerDerivative(params), me)
        work = int(c.registry.functions.workCount().call())
        status = int(c.router.functions.statusOf(work).call())
        _emit(as_json, {"work": work, "pending": status == 1},
              f"derivative {work} registered" + (" (pending consent)" if status == 1 else ""))


@derivative_app.command("approve")
def derivative_approve(work: int, community: int = typer.Option(..., help="The consenting community."),
                       sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Approve a pending derivative as one of the community's stewards."""
    with _chain(data_dir) as c, _errors():
        c.send(c.registry.functions.approveDerivative(work, community), _sender(c, sender))
        status = int(c.router.functions.statusOf(work).call())
        _emit(as_json, {"work": work, "active": status == 2}, "approved" + (": now active" if status == 2 else ""))


# ---------------------------------------------------------------------- money
@app.command()
def pay(work: int, amount: int = typer.Argument(..., help="Amount in wei (or token units)."),
        token: str = typer.Option("", help="ERC-20 token address; ETH when omitted."),
        usage: str = typer.Option("", help="Off-chain usage reference (hashed)."),
        sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Pay a work; credits flow up its lineage to the heritage communities."""
    with _chain(data_dir) as c, _errors():
        ref = hashlib.sha256((usage or f"cli-{time.time_ns()}").encode()).digest()
        now = int(time.time())
        me = _sender(c, sender)
        if token:
            c.send(c.router.functions.payToken(work, c.w3.to_checksum_address(token), amount, ref, now), me)
        else:
            c.send(c.router.functions.pay(work, ref, now), me, value=amount)
        _emit(as_json, {"work": work, "amount": amount}, f"paid {amount} to work {work}")


@app.command()
def withdraw(token: str = typer.Option("", help="ERC-20 token address; ETH when omitted."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Withdraw the sender's whole balance."""
    with _chain(data_dir) as c, _errors():
        me = _sender(c, sender)
        t = c.w3.to_checksum_address(token) if token else ETH
        amount = int(c.router.functions.balanceOf(t, me).call())
        c.send(c.router.functions.withdraw(t), me)
        _emit(as_json, {"account": me, "amount": amount}, f"withdrew {amount} to {me}")


@dispute_app.command("raise")
def dispute_raise(work: int, community: int = typer.Option(...), sender: str = FromOpt,
                  data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Flag a derivative as misappropriation; its own share is escrowed from now on."""
    with _chain(data_dir) as c, _errors():
        c.send(c.registry.functions.raiseDispute(work, community, b""), _sender(c, sender))
        _emit(as_json, {"work": work, "disputed": True}, f"dispute raised on work {work}")


@dispute_app.command("resolve")
def dispute_resolve(work: int, uphold: bool = typer.Option(..., "--uphold/--dismiss"), sender: str = FromOpt,
                    data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Vote to resolve a dispute: uphold (escrow to the community) or dismiss (to the split)."""
    with _chain(data_dir) as c, _errors():
        c.send(c.registry.functions.resolveDispute(work, uphold), _sender(c, sender))
        open_ = int(c.registry.functions.disputeOf(work).call()) != 0
        _emit(as_json, {"work": work, "resolved": not open_}, "resolved" if not open_ else "vote recorded")


# ---------------------------------------------------------------------- audit, cid, demo
@app.command()
def audit(work: int = typer.Argument(0, help="Work id; omit with --all."),
          all_: bool = typer.Option(False, "--all", help="Audit the whole catalogue."),
          data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Re-hash stored content against the chain, walk the lineage to its heritage roots and check
    every protocol; exit status 1 on any mismatch. --all reports provenance traceability."""
    from chain.audit import audit_catalogue, audit_work, summarise

    if not work and not all_:
        raise typer.BadParameter("give a WORK id or --all")
    with _chain(data_dir) as c, _errors():
        store = open_store(c.settings)
        if all_:
            summary, results = audit_catalogue(c, store)
        else:
            results = [audit_work(c, store, work)]
            summary = summarise(results)
        if as_json:
            print(json.dumps({"summary": summary, "works": [r.to_json() for r in results]}))
        else:
            t = Table(title="audit")
            for col in ("work", "kind", "status", "check", "verdict"):
                t.add_column(col)
            for r in results:
                for v in r.verdicts:
                    t.add_row(str(r.work_id), r.kind, r.status, v.check, ("ok: " if v.ok else "FAIL: ") + v.detail)
            console.print(t)
            console.print(summary)
        if not all(r.ok for r in results):
            raise typer.Exit(1)


@app.command()
def cid(file: Path = typer.Argument(..., help="Any file; streamed in bounded memory."), as_json: bool = JsonOpt) -> None:
    """Print the CID that `ipfs add --cid-version=1 FILE` prints for the same file."""
    with _errors():
        value = file_cid(file)
    print(json.dumps({"file": str(file), "cid": value}) if as_json else value)


@app.command()
def simulate(config: Path | None = typer.Option(None, "--config", help="Scenario YAML (economy/scenario.py has every "
                                                "field and its range); omit for the defaults."),
             out: Path = typer.Option(Path("results/simulation"), "--out", help="Results folder (created)."),
             data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Simulate a royalty economy: listeners, recommendation (archive, unconditioned, fairness-aware)
    and settlement (manual vs on-chain on the node); writes tables, plots, table2.csv and summary.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from economy.scenario import load_scenario
    from economy.simulate import run as run_simulation

    with _errors():
        scenario = load_scenario(config)
    with _chain(data_dir) as c, _errors(), Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                                    TimeElapsedColumn(), console=console, disable=as_json) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summary = run_simulation(scenario, c, open_store(c.settings), out, progress)
    if as_json:
        print(json.dumps(summary, default=float))
        return
    t = Table(title=f"Table 2 (our runs): scenario {scenario.name!r}, results in {out}")
    t.add_column("measure")
    for arm in summary["table2"]:
        t.add_column(arm, justify="right")
    measures = list(next(iter(summary["table2"].values())))
    for m in measures:
        t.add_row(m, *(f"{summary['table2'][arm][m]:.4g}" for arm in summary["table2"]))
    console.print(t)
    cox = summary["cox_abandonment_ours_vs_unconditioned"]
    console.print(f"Session abandonment, ours vs unconditioned (Cox): HR {cox['hazard_ratio']:.3f} "
                  f"[{cox['ci_low']:.3f}, {cox['ci_high']:.3f}], p = {cox['p']:.3g}")


@app.command()
def demo(data_dir: Path = DataOpt) -> None:
    """Run the end-to-end demo on the embedded defaults (anvil, local block store, Essen songs)."""
    from cli.demo import run

    with _errors():
        code = run(_settings(data_dir), console)
    raise typer.Exit(code)






# ---------------------------------------------------------------------- service
@app.command()
def api(host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
        port: int = typer.Option(8000, help="Port to listen on."),
        demo: bool = typer.Option(False, "--demo", help="Sign for the embedded anvil's development accounts "
                                  "(POST /demo/sign; chain 31337 only)."),
        data_dir: Path = DataOpt) -> None:
    """Serve the HTTP API (FastAPI) over the chain, the index and the content store; /docs has every endpoint."""
    import uvicorn

    from api.app import create_app

    settings = _settings(data_dir).model_copy(update={"api_demo": demo or _settings(data_dir).api_demo})
    console.print(f"serving on http://{host}:{port} (docs at /docs){' in demo mode' if settings.api_demo else ''}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")



# ---------------------------------------------------------------------- recognition
recognition_app = typer.Typer(help="Timbre (instrument) recognition: MFCC and learned features, GMM-HMM, DNN-HMM, "
                              "a transfer-learned CNN; models registered as derivatives.", no_args_is_help=True)
app.add_typer(recognition_app, name="recognition")


@recognition_app.command("evaluate")
def recognition_evaluate(pieces: int = typer.Option(40, min=4, help="Essen Han songs to render (split 70/15/15 by piece)."),
                         layers: int = typer.Option(5, min=1, help="Hidden layers of the DNN-HMM's network."),
                         width: int = typer.Option(1024, min=4, help="Units per hidden layer."),
                         epochs: int = typer.Option(8, min=1, help="Training epochs of the network."),
                         seconds: float = typer.Option(9.0, min=3.0, help="Seconds of each rendered clip (3-s segments)."),
                         out: Path = typer.Option(Path("reports"), help="Where recognition.md/.json and the confusion PNGs go."),
                         cache: Path = typer.Option(Path("cache/recognition"), help="Rendered clips, reused between runs."),
                         model: Path = typer.Option(Path("cache/models/timbre-dnn-hmm.pt"), help="Where the trained DNN-HMM is saved."),
                         cnn: Path = typer.Option(Path("cache/models/transfer-cnn.pt"), help="Where the source-task CNN is saved."),
                         variant: list[str] = typer.Option(["GMM-HMM", "DNN-HMM", "AE", "CNN"],
                                                           help="Variants to train (prefixes; repeat): GMM-HMM, DNN-HMM, AE, CNN."),
                         tabla: bool = typer.Option(True, help="Add the real tabla (apt-get install sonic-pi-samples) as a class."),
                         protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                                                     "(asks the chain in --data-dir; starts it if needed)."),
                         data_dir: Path = DataOpt) -> None:
    """Render Han songs with 12 GM instruments from two soundfont families (plus real tabla),
    train every variant on one family — GMM-HMM and DNN-HMM on MFCC, GMM-HMM on autoencoder
    features (unsupervised, then fine-tuned), a transfer-learned CNN's mid/high/fused features
    into an SVM — test on unseen songs in both families, and write reports/recognition.md/.json
    with the seed's tables beside ours. About 25 minutes on 2 cores with the defaults."""
    from ml.recognition.dnn_hmm import DnnHmmConfig
    from ml.recognition.experiment import ExperimentConfig, run, write_report

    cfg = ExperimentConfig(pieces=pieces, seconds=seconds, dnn=DnnHmmConfig(hidden=(width,) * layers, epochs=epochs),
                           variants=tuple(variant), tabla=tabla)
    with _stages() as say:
        source = None
        if protocols:
            from chain.derive import protocol_sources
            from ml.data.corpora import essen
            from ml.data.training import Source

            with _chain(data_dir) as c:
                flags = {s.cid: s for s in protocol_sources(c, [p.cid for p in essen(("Chinese Han",))])}

            def source(piece: Any) -> Source:
                from dataclasses import asdict

                return Source(**asdict(flags[piece.cid]))

        report = run(cfg, cache_dir=cache, say=say, model_path=model, cnn_path=cnn, source=source)
        write_report(report, out)
    console.print((out / "recognition.md").read_text())
    if report["model"]:
        console.print(f"model: {model} (CID {report['model']['cid']}); try `heritage recognize FILE --model {model}`, "
                      f"and `heritage recognition register --model {model}` to record it as a derivative of its sources")


@recognition_app.command("register")
def recognition_register(model: Path = typer.Option(Path("cache/models/timbre-dnn-hmm.pt"),
                                                    help="A model `recognition evaluate` saved (DNN-HMM or transfer CNN)."),
                         report: Path = typer.Option(Path("reports/recognition.json"),
                                                     help="The evaluation report: its cross-family error rates go in the manifest."),
                         upstream_ppm: int = typer.Option(200_000, min=0, max=1_000_000,
                                                          help="Share of every payment routed to the works it learned from, ppm."),
                         sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Store MODEL by CID with its manifest and register it as a derivative of the registered
    works it learned from (through training-set parts when more than 8). A work whose protocol
    forbids ML use refuses it; a consent-required one leaves it pending; rerunning is safe."""
    from chain.derive import register_model
    from core.cid import file_cid
    from ml.recognition.model import describe

    with _chain(data_dir) as c, _errors():
        facts = describe(model)
        metrics: dict[str, float] = {}
        if report.exists():
            r = json.loads(report.read_text())
            key = {"timbre-dnn-hmm": ("model", "DNN-HMM"), "transfer-cnn": ("cnn_model", "CNN-transfer (mid+high) + SVM")}
            where, variant = key[facts.architecture.split("/")[1]]
            other = r.get("results", {}).get(variant, {}).get("test, other family (TimGM6mb)")
            if r.get(where, {}).get("cid") == file_cid(model) and other:
                metrics = {"cross_family_segment_error_rate": other["segment_error_rate"],
                           "cross_family_clip_error_rate": other["clip_error_rate"]}
        d = register_model(c, open_store(c.settings), model_file=model, architecture=facts.architecture,
                           learned_from=facts.learned_from, operator=_sender(c, sender), parameters=facts.parameters,
                           metrics=metrics, upstream_ppm=upstream_ppm)
    payload = {"work": d.model_work, "model_cid": d.model_cid, "manifest_cid": d.manifest_cid, "parts": list(d.parts),
               "pending": d.pending, "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting],
               "unregistered": len(d.unregistered), "existing": d.existing}
    text = (f"model {d.model_cid}: " + (f"work {d.model_work}" if d.model_work else "not yet registered") +
            (" (already registered)" if d.existing else "") + (f", through training-set parts {list(d.parts)}" if d.parts else "") +
            (f"; {len(d.unregistered)} of the pieces it learned from are not on the chain and are credited nothing"
             if d.unregistered else "") +
            "".join(f"\nawaiting consent: `heritage derivative approve {a.work} --community {a.community}` by its stewards"
                    for a in d.awaiting))
    _emit(as_json, payload, text)


@recognition_app.command("csv")
def recognition_csv(labels: Path = typer.Argument(..., help="A CSV of `file,label` rows (audio paths relative to it): e.g. emotions."),
                    cnn: Path = typer.Option(Path("cache/models/transfer-cnn.pt"),
                                             help="The source-task CNN `recognition evaluate` saved."),
                    level: str = typer.Option("fused", help="Features: mid, high or fused (mid+high)."),
                    folds: int = typer.Option(5, min=2, help="Cross-validation folds (grouped by file)."),
                    as_json: bool = JsonOpt) -> None:
    """Cross-validate the transfer-learned CNN's features + SVM on your own labels (the seed's
    emotion model): accuracy per 3-s segment and per file, folds grouped by file."""
    from ml.recognition.transfer import cross_validate, csv_dataset, load_source

    with _errors():
        x, y, groups, _ = csv_dataset(labels, load_source(cnn), level=level)
        r = cross_validate(x, y, groups, folds=folds)
    if as_json:
        print(json.dumps(r))
        return
    t = Table(title=f"{labels.name}: {r['files']} files, {r['segments']} segments, {r['folds']}-fold CV grouped by file")
    for col in ("true \\ predicted", *r["labels"]):
        t.add_column(col)
    for lab, row in zip(r["labels"], r["confusion"], strict=True):
        t.add_row(lab, *map(str, row))
    console.print(t)
    console.print(f"segment accuracy {r['segment_accuracy']:.1%} ± {r['segment_accuracy_sd']:.1%}; "
                  f"file accuracy {r['file_accuracy']:.1%}")


# ---------------------------------------------------------------------- classification
classification_app = typer.Typer(help="Style and region classification of folk songs: audio models, ensembles, the symbolic path.",
                                 no_args_is_help=True)
app.add_typer(classification_app, name="classification")
CLASSIFIER_DIR = Path("cache/models/classification")


@classification_app.command("evaluate")
def classification_evaluate(task: list[str] = typer.Option(["tradition", "han_region", "han_genre", "dance"],
                                                           help="Tasks (repeat): tradition, han_region, han_genre, dance."),
                            per_class: int = typer.Option(60, min=10, help="Pieces per class at most (the first by CID)."),
                            epochs: int = typer.Option(15, min=1, help="Training epochs of each neural model."),
                            out: Path = typer.Option(Path("reports"), help="Where classification_audio.md/.json go."),
                            cache: Path = typer.Option(Path("cache/classification"), help="Rendered patches, reused."),
                            models: Path = typer.Option(CLASSIFIER_DIR, help="Where each task's model is saved.")) -> None:
    """Render each task's songs (an instrument drawn per song), train CNN, RNN, LSTM, CRNN and
    CNN + SVM on the FluidR3 family, ensemble them by soft voting and by stacking, test on unseen
    songs in both soundfont families beside the symbolic path, and write the report."""
    from ml.classification.audio import AudioModelConfig
    from ml.classification.experiment import ClassifyConfig, run_task, write_report

    cfg = ClassifyConfig(per_class=per_class, model=AudioModelConfig(epochs=epochs))
    reports = []
    with _stages() as say:
        for name in task:
            reports.append(run_task(name, cfg, cache_dir=cache, say=say, model_path=models / f"{name}.pt"))
            write_report(reports, out)
    console.print((out / "classification_audio.md").read_text())


@app.command()
def classify(file: Path = typer.Argument(..., help="A recording: WAV, FLAC, OGG or MP3."),
             models: Path = typer.Option(CLASSIFIER_DIR, help="A folder of task models `classification evaluate` saved."),
             top: int = typer.Option(5, min=1, help="Labels to show per task."),
             as_json: bool = JsonOpt) -> None:
    """The label distribution of FILE for each task (tradition, region, genre, dance type)."""
    from ml.classification.experiment import classify as run_classify
    from ml.data.audio import load_audio

    with _errors():
        paths = sorted(models.glob("*.pt")) if models.is_dir() else [models]
        if not paths or not paths[0].exists():
            raise InputError(f"no task models in {models}: train them with `heritage classification evaluate`")
        y, _ = load_audio(file, sample_rate=22_050)
        dist = run_classify(y, paths)
    if as_json:
        print(json.dumps(dist))
        return
    for name, d in dist.items():
        console.print(f"[bold]{name}[/bold]: " + ", ".join(f"{k} {v:.2f}" for k, v in list(d.items())[:top]))


# ---------------------------------------------------------------------- embedding maps
embedding_app = typer.Typer(help="Embedding maps of the catalogue: VGGish trained here, MFCC statistics, musicnn.",
                            no_args_is_help=True)
app.add_typer(embedding_app, name="embedding")


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
    with _stages() as say:
        report, spaces, items = run(cfg, cache_dir=cache, say=say, extra=extra)
        write_report(report, spaces, items, out)
    console.print((out / "embedding.md").read_text())


# ---------------------------------------------------------------------- score recognition
omr_app = typer.Typer(help="Score recognition: the seed's reader (Haar, contour refinement, SRU, focal CTC) and a CRNN.",
                      no_args_is_help=True)
app.add_typer(omr_app, name="omr")


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
    with _stages() as say:
        write_report(run(cfg, cache_dir=cache, say=say, save_dir=save), out)
    console.print((out / "omr.md").read_text())


@app.command()
def transcribe(image: Path = typer.Argument(..., help="A score image: a page or one staff line (PNG, JPEG, TIFF)."),
               model: Path = typer.Option(Path("cache/models/omr-seed.pt"), help="A reader `omr evaluate` saved."),
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
    from ml.omr.saved import load as load_reader
    from ml.omr.transcribe import midi_bytes, musicxml_bytes, read_image
    from ml.omr.transcribe import transcribe as read_score

    with _errors():
        reader = load_reader(model)
        t = read_score(reader.trained, read_image(image))
        out.mkdir(parents=True, exist_ok=True)
        xml, mid = out / f"{image.stem}.musicxml", out / f"{image.stem}.mid"
        xml.write_bytes(musicxml_bytes(t.score))
        mid.write_bytes(midi_bytes(t.score))
        (out / f"{image.stem}.tokens.json").write_text(json.dumps([list(line) for line in t.tokens], indent=1))
    notes = len(t.score.flatten().notes)
    payload: dict[str, Any] = {"staves": len(t.staves), "notes": notes, "ignored_tokens": t.ignored, "musicxml": str(xml),
                               "midi": str(mid), "musicxml_cid": file_cid(xml), "midi_cid": file_cid(mid)}
    text = (f"{len(t.staves)} staves, {notes} notes ({t.ignored} tokens ignored) → {xml}, {mid}")
    if register:
        payload.update(_register_transcription(image, model, xml, mid, t.staves, t.ignored, reader.metrics, kind=reader.trained.kind,
                                               work=work,
                                               upstream_ppm=upstream_ppm, sender=sender, data_dir=data_dir))
        text += (f"\nregistered as work {payload['work']}" + (" (already registered)" if payload["existing"] else "") +
                 f", a derivative of work {payload['parent']}" +
                 "".join(f"\nawaiting consent: `heritage derivative approve {a['work']} --community {a['community']}` by its "
                         "stewards" for a in payload["awaiting"]))
    _emit(as_json, payload, text)


def _register_transcription(image: Path, model: Path, xml: Path, mid: Path, staves: Sequence[Any], ignored: int,
                            metrics: Mapping[str, float], *, kind: str, work: int | None, upstream_ppm: int, sender: str,
                            data_dir: Path) -> dict[str, Any]:
    from chain.derive import register_output

    image_cid = file_cid(image)
    with _chain(data_dir) as c, _errors():
        reg = c.registry.functions
        if work is None:
            work = int(reg.workByContent(from_text(image_cid)).call()) or None
            if work is None:
                raise InputError(f"the image {image} ({image_cid}) is not a registered work, so the transcription has no "
                                 "parent: pass --work N (the score's work), register the image first (`heritage work "
                                 "register IMAGE --community ID`), or use --no-register")
        elif not 1 <= work <= int(reg.workCount().call()):
            raise InputError(f"work {work} does not exist: `heritage work list` shows the registered works")
        score_cid = to_text(bytes(reg.workOf(work).call()[5]))
        d = register_output(c, open_store(c.settings), content=xml, renditions={"audio/midi": mid}, model_file=model,
                            architecture=f"omr/{kind}", made_from=[score_cid], operator=_sender(c, sender),
                            title=f"Transcription of {image.name}", upstream_ppm=upstream_ppm, metrics=metrics,
                            parameters={"image_cid": image_cid, "staves": len(staves), "ignored_tokens": ignored,
                                        "decoding": "greedy CTC"},
                            description=f"MusicXML read from the score image {image_cid} by the OMR model (maker.model_cid), "
                                        f"{len(staves)} staves; renditions hold the MIDI.")
    return {"work": d.model_work, "parent": work, "existing": d.existing, "pending": d.pending,
            "manifest_cid": d.manifest_cid, "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting]}


@app.command()
def recognize(file: Path = typer.Argument(..., help="A recording: WAV, FLAC, OGG or MP3."),
              model: Path = typer.Option(Path("cache/models/timbre-dnn-hmm.pt"), help="A model `recognition evaluate` saved."),
              top: int = typer.Option(3, min=1, help="Instruments to show per segment."),
              as_json: bool = JsonOpt) -> None:
    """The most likely instruments of each 3-s segment of FILE (DNN-HMM)."""
    from ml.data.audio import load_audio
    from ml.recognition.model import load

    with _errors():
        recogniser = load(model)
        y, _ = load_audio(file, sample_rate=recogniser.features.sample_rate)
        per_segment = recogniser.recognise(y)
    ranked = [sorted(p.items(), key=lambda kv: -kv[1])[:top] for p in per_segment]
    if as_json:
        print(json.dumps([{"segment": i, "start_s": i * recogniser.features.segment_s, "top": [{"instrument": k, "p": v} for k, v in r]}
                          for i, r in enumerate(ranked)]))
        return
    t = Table(title=f"{file.name}: instruments per {recogniser.features.segment_s:g}-s segment")
    for col in ("segment", "from s", *(f"#{i + 1}" for i in range(top))):
        t.add_column(col)
    for i, r in enumerate(ranked):
        t.add_row(str(i), f"{i * recogniser.features.segment_s:g}", *(f"{k} {v:.2f}" for k, v in r))
    console.print(t)



# ---------------------------------------------------------------------- generation
generation_app = typer.Typer(help="Culturally constrained generation: a transformer over the microtonal lattice, decoded "
                             "with the tradition's masks; its baselines and fidelity report.", no_args_is_help=True)
app.add_typer(generation_app, name="generation")
GENERATION_MODELS = Path("cache/models")


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressFn | None]:
    """`_stages()`'s progress bars, or errors handled and no bars (for --json, whose output is the JSON alone)."""
    if quiet:
        with _errors():
            yield None
    else:
        with _stages() as say:
            yield say


def _han_sources(data_dir: Path) -> Any:
    """Each Han song's protocol flags from the chain (songs whose work forbids ML use are left out)."""
    from dataclasses import asdict

    from chain.derive import protocol_sources
    from ml.data.corpora import essen
    from ml.data.training import Source

    with _chain(data_dir) as c:
        flags = {s.cid: s for s in protocol_sources(c, [p.cid for p in essen(("Chinese Han",))])}

    def source(piece: Any) -> Source:
        return Source(**asdict(flags[piece.cid]))

    return source


def _generation_config(*, epochs: int, layers: int, width: int, heads: int, block: int, **kw: Any) -> Any:
    from ml.generation.experiment import GenerationExperimentConfig, ModelSize
    from ml.generation.train import TrainConfig

    return GenerationExperimentConfig(size=ModelSize(n_layer=layers, n_head=heads, n_embd=width, block_size=block),
                                      train=TrainConfig(epochs=epochs, batch_size=32, lr=3e-3), **kw)


@generation_app.command("train")
def generation_train(epochs: int = typer.Option(6, min=1, help="Training epochs (the best validation epoch is kept)."),
                     layers: int = typer.Option(3, min=1, help="Transformer blocks."),
                     width: int = typer.Option(64, min=8, help="Embedding width (a multiple of --heads)."),
                     heads: int = typer.Option(4, min=1, help="Attention heads."),
                     block: int = typer.Option(256, min=16, help="Context length in tokens."),
                     models: Path = typer.Option(GENERATION_MODELS, help="Where generation-conditioned.pt and "
                                                                         "generation-unconditioned.pt go."),
                     protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                                               "(asks the chain in --data-dir; starts it if needed)."),
                     data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Train the conditioned and the unconditioned lattice transformer on the Essen Han songs the
    protocols allow (split 70/15/15 by piece), and save both (`heritage generate` reads the first)."""
    from ml.generation.experiment import MODEL_FILES, prepare, train_models

    cfg = _generation_config(epochs=epochs, layers=layers, width=width, heads=heads, block=block)
    with _progress(as_json) as say:
        source = _han_sources(data_dir) if protocols else None
        prep = prepare(cfg, source=source)
        trained = train_models(prep, cfg, say=say, save_dir=models)
    payload: dict[str, Any] = {name: {"path": str(models / MODEL_FILES[name]), "cid": file_cid(models / MODEL_FILES[name]),
                      "parameters": m.trained.net.n_params(), "train_seconds": round(m.trained.train_seconds, 1),
                      "best_epoch": m.trained.best_epoch, "val_perplexity": m.facts["val_perplexity"]}
               for name, m in trained.items()}
    payload["corpus"] = prep.corpus
    payload["refused"] = len(prep.refused)
    text = "\n".join(f"{name}: {v['path']} ({v['parameters']:,} parameters, {v['train_seconds']} s, best epoch {v['best_epoch']}, "
                     f"validation perplexity {v['val_perplexity']:.2f})" for name, v in payload.items() if name in MODEL_FILES)
    _emit(as_json, payload, text + f"\n{prep.corpus['pieces']} songs encoded, {len(prep.refused)} refused by their protocols; "
                                   "`heritage generation evaluate` writes the report, `heritage generate` makes a piece")


@generation_app.command("evaluate")
def generation_evaluate(pieces: int = typer.Option(24, min=2, help="Held-out songs conditioning one piece per row."),
                        seconds: float = typer.Option(30.0, min=2.0, help="Length of every piece."),
                        bpm: float = typer.Option(80.0, min=20.0, help="Beats per minute."),
                        audio_pieces: int = typer.Option(3, min=0, help="Pieces per row whose modal error is also tracked "
                                                                        "from audio (about 12 s each)."),
                        other_pieces: int = typer.Option(6, min=0, help="Pieces per row for each tradition without a corpus."),
                        models: Path = typer.Option(GENERATION_MODELS, help="The models `generation train` saved; trained "
                                                                            "here (same sizes as its defaults) when missing."),
                        epochs: int = typer.Option(6, min=1, help="Epochs, when the models must be trained."),
                        out: Path = typer.Option(Path("reports"), help="Where generation.md/.json/.png go."),
                        multimodal: Path = typer.Option(GENERATION_MODELS / "multimodal.pt",
                                                        help="The multimodal model (`generation multimodal`): the archive "
                                                             "row retrieves by its embedding when the file exists, by "
                                                             "symbolic features otherwise."),
                        protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use."),
                        data_dir: Path = DataOpt) -> None:
    """Generate from held-out songs with both networks, retrieve the archive baseline, measure
    everything against the training songs and write the seed's Table 1 per tradition."""
    from ml.generation.experiment import MODEL_FILES, run, write_report
    from ml.generation.train import load

    cfg = _generation_config(epochs=epochs, layers=3, width=64, heads=4, block=256, pieces=pieces, seconds=seconds, bpm=bpm,
                             audio_pieces=audio_pieces, other_pieces=other_pieces)
    with _stages() as say:
        source = _han_sources(data_dir) if protocols else None
        paths = {name: models / f for name, f in MODEL_FILES.items()}
        saved = {name: load(p) for name, p in paths.items()} if all(p.exists() for p in paths.values()) else None
        retrieval = None
        if multimodal.exists():
            from ml.generation.multimodal import load as load_multimodal

            retrieval = load_multimodal(multimodal)
        write_report(run(cfg, say=say, source=source, models=saved, save_dir=models, multimodal=retrieval), out)
    console.print((out / "generation.md").read_text())


@generation_app.command("midigan")
def generation_midigan(gan_steps: int = typer.Option(3000, min=1, help="GAN generator updates (each after --n-critic critic "
                                                                       "updates on batches of 64 rolls)."),
                       n_critic: int = typer.Option(5, min=1, help="Critic updates per generator update (WGAN-GP: 5)."),
                       epochs: int = typer.Option(12, min=1, help="Epochs of the LSTM and Transformer baselines (the best "
                                                                  "validation epoch is kept)."),
                       samples: int = typer.Option(256, min=2, help="Rolls each model samples for the report."),
                       width: int = typer.Option(32, min=8, help="Channels of the GAN's generator and critic branches and "
                                                                 "the baselines' width (a multiple of 4)."),
                       songs: int | None = typer.Option(None, min=10, help="Use only the first N Han songs by CID "
                                                                           "(quick trials); all by default."),
                       out: Path = typer.Option(Path("reports"), help="Where midigan.md, .json and .png go."),
                       models: Path = typer.Option(GENERATION_MODELS, help="Where midigan-gan.pt, midigan-lstm.pt and "
                                                                           "midigan-transformer.pt are saved (or read with "
                                                                           "--reuse)."),
                       cache: Path = typer.Option(Path("cache/midigan"), help="The prepared rolls, reused between runs."),
                       reuse: bool = typer.Option(False, help="Measure the three models saved in --models instead of "
                                                              "training (they must come from the same songs and split)."),
                       protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                                                 "(asks the chain in --data-dir; starts it if needed)."),
                       data_dir: Path = DataOpt) -> None:
    """MIDI-GAN (issue 8): train a WGAN-GP with a multi-scale residual critic and the attention
    similarity-matching term, and LSTM and Transformer baselines, on 80-step sixteenth-note piano rolls
    of the Essen Han songs; sample each and report PPL (reference trigram), UPC, GC and EBR against the
    held-out rolls, with training and sampling times (reports/midigan.md). With the defaults it takes
    about 25 minutes on two CPU cores, most of it the GAN (about 0.45 s a generator step)."""
    from dataclasses import replace

    from ml.generation.midigan.experiment import MODEL_FILES, MidiganConfig, load, run, write_report
    from ml.generation.midigan.rolls import RollConfig

    base = MidiganConfig()
    cfg = replace(base, rolls=RollConfig(songs=songs), width=width, samples=samples,
                  gan_train=replace(base.gan_train, steps=gan_steps, n_critic=n_critic),
                  lm_train=replace(base.lm_train, epochs=epochs))
    with _stages() as say:
        if width % cfg.heads:
            raise InputError(f"--width {width} must be a multiple of {cfg.heads} (the attention heads)")
        source = _han_sources(data_dir) if protocols else None
        paths = {name: models / f for name, f in MODEL_FILES.items()}
        saved = {name: load(p) for name, p in paths.items()} if reuse else None
        write_report(run(cfg, cache_dir=cache, say=say, source=source, models=saved, save_dir=None if reuse else models), out)
    console.print((out / "midigan.md").read_text())


@generation_app.command("multimodal")
def generation_multimodal(songs: int | None = typer.Option(None, min=20, help="Use only the first N Han songs by CID (quick "
                                                                                 "trials); all by default."),
                          epochs: int = typer.Option(25, min=1, help="Training epochs (the best validation epoch is kept)."),
                          ablate: list[str] = typer.Option(["constraint"], help="A loss to retrain without, for the ablation "
                                                                                "(infonce, triplet, centroid, constraint); repeat."),
                          ablations: bool = typer.Option(True, help="Run the ablation retrains (--no-ablations: none)."),
                          held_out_family: str = typer.Option("TimGM6mb", help="Soundfont family the held-out songs are "
                                                                               "rendered with (\"same\": the training family)."),
                          models: Path = typer.Option(GENERATION_MODELS, help="Where multimodal.pt goes."),
                          cache: Path = typer.Option(Path("cache/multimodal"), help="Rendered audio features, reused between runs."),
                          out: Path = typer.Option(Path("reports"), help="Where multimodal.md, .json and .png go."),
                          protocols: bool = typer.Option(True, help="Leave out songs whose registered work forbids ML use "
                                                                    "(asks the chain in --data-dir; starts it if needed)."),
                          data_dir: Path = DataOpt) -> None:
    """The multimodal representation (issue 8): audio (a FluidSynth render of each Han song's opening and
    close), symbolic (its lattice tokens) and context (province, genre, mode, cycle) encoders in one space,
    trained with InfoNCE, triplet, centroid and constraint losses on the generation experiment's split.
    Reports cross-modal retrieval, labels inferred from audio against MFCC baselines, and the archive
    baseline's neighbours (reports/multimodal.md); saves the model that `generation evaluate` retrieves
    the archive row with and `heritage generate` conditions on recordings with. About 10 minutes on two
    cores with all songs (half of it rendering, cached for the next run)."""
    from dataclasses import replace

    from ml.generation.multimodal_experiment import MultimodalExperimentConfig, run, write_report

    with _stages() as say:
        base = MultimodalExperimentConfig()
        cfg = replace(base, songs=songs, train=replace(base.train, epochs=epochs), held_out_family=held_out_family,
                      ablations=tuple(ablate) if ablations else ())
        source = _han_sources(data_dir) if protocols else None
        write_report(run(cfg, say=say, source=source, save_dir=models, cache_dir=cache), out)
    console.print((out / "multimodal.md").read_text())


@app.command()
def generate(tradition: str = typer.Option(..., help="A tradition id (`ml/generation/traditions/<id>.yaml`)."),
             conditioned_on: list[int] = typer.Option(..., "--conditioned-on", help="A registered work (ABC, MusicXML or "
                                                                                    "MIDI; or a recording, heard through "
                                                                                    "--multimodal) to condition on; repeat."),
             mode: str | None = typer.Option(None, help="The mode (default: the first work's, else the tradition's first)."),
             cycle: str | None = typer.Option(None, help="The rhythmic cycle (default: the first work's metre, else the first)."),
             seconds: float = typer.Option(30.0, min=1.0, help="Length of the piece."),
             bpm: float = typer.Option(80.0, min=20.0, help="Beats per minute."),
             seed: int = typer.Option(0, help="Sampling seed: the same seed, model and works give the same piece."),
             prompt_bars: int = typer.Option(2, min=0, help="Opening cycles of each work that start the piece."),
             temperature: float = typer.Option(1.0, min=0.05, help="Sampling temperature."),
             instrument: str = typer.Option("flute", help="GM instrument of the rendering (ml.data.render.INSTRUMENTS)."),
             model: Path = typer.Option(GENERATION_MODELS / "generation-conditioned.pt", help="A conditioned model "
                                                                                          "`generation train` saved."),
             out: Path = typer.Option(Path("generated"), help="Where the .mid, .wav and .json go."),
             multimodal: Path = typer.Option(GENERATION_MODELS / "multimodal.pt",
                                             help="The multimodal model (`generation multimodal`) that infers a recorded "
                                                  "work's mode and genre; read only when a work is a recording."),
             audio_metrics: bool = typer.Option(True, help="Also track the WAV's pitch for the audio modal error."),
             register: bool = typer.Option(True, "--register/--no-register",
                                           help="Store the piece by CID and register it as a derivative of the works."),
             upstream_ppm: int = typer.Option(200_000, min=0, max=1_000_000,
                                              help="Share of every payment routed to the conditioning works, ppm."),
             sender: str = FromOpt, data_dir: Path = DataOpt, as_json: bool = JsonOpt) -> None:
    """Generate a piece in TRADITION conditioned on registered works: their protocols are checked first
    (a work that forbids ML use, or is restricted, refuses it before anything is read or generated),
    their opening cycles prompt the conditioned network, the tradition's masks hold on every token;
    write MIDI (exact microtonal pitch bends), WAV and the metrics, and register the MIDI (the WAV as
    its rendition) as a derivative of the works. A consent-required work leaves it pending."""
    from ml.generation.tradition import load_tradition
    from ml.generation.train import load

    with _errors():
        saved = load(model)
        if not saved.trained.conditioned:
            raise InputError(f"{model} is the unconditioned baseline: give the conditioned model (generation-conditioned.pt)")
        t = load_tradition(tradition)
        if mode is not None:
            t.mode(mode)
        if cycle is not None:
            t.cycle(cycle)
    with _chain(data_dir) as c, _errors():
        cids = _conditioning_cids(c, conditioned_on)
        data = {w: b"".join(open_store(c.settings).cat(cid)) for w, cid in cids.items()}
        result = _generate_piece(saved, t, data, cids, mode=mode, cycle=cycle, seconds=seconds, bpm=bpm, seed=seed,
                                 prompt_bars=prompt_bars, temperature=temperature, instrument=instrument, out=out,
                                 audio_metrics=audio_metrics, multimodal=multimodal)
        payload: dict[str, Any] = {k: v for k, v in result.items() if k != "register"}
        text = (f"{payload['bars']} cycles of {payload['cycle']} in {payload['tradition']} ({payload['mode'] or 'no mode'}), "
                f"{payload['notes']} notes → {payload['midi']}, {payload['wav']} ({payload['renderer']}), {payload['metrics_file']}")
        for w, heard in payload.get("recordings", {}).items():
            text += f"\nwork {w} is a recording: the multimodal model hears " + ", ".join(
                f"{k} {v} ({heard['confidence'][k]:.0%})" if k in heard["confidence"] else f"{k} {v}"
                for k, v in heard["labels"].items() if v)
        if register:
            from chain.derive import register_output

            r = result["register"]
            d = register_output(c, open_store(c.settings), content=Path(payload["midi"]),
                                renditions={"audio/wav": Path(payload["wav"])}, model_file=model,
                                architecture="generation/lattice-transformer", made_from=list(cids.values()),
                                operator=_sender(c, sender), title=r["title"], description=r["description"],
                                parameters=r["parameters"], seed=seed, metrics=r["metrics"], upstream_ppm=upstream_ppm)
            payload.update({"work": d.model_work, "existing": d.existing, "pending": d.pending, "manifest_cid": d.manifest_cid,
                            "parents": sorted(conditioned_on), "parts": list(d.parts),
                            "awaiting": [{"work": a.work, "community": a.community} for a in d.awaiting]})
            text += (f"\nregistered as work {d.model_work}" + (" (already registered)" if d.existing else "") +
                     f", a derivative of works {sorted(conditioned_on)}" +
                     "".join(f"\nawaiting consent: `heritage derivative approve {a.work} --community {a.community}` by its "
                             "stewards" for a in d.awaiting))
    _emit(as_json, payload, text)


def _conditioning_cids(c: Chain, works: Sequence[int]) -> dict[int, Any]:
    """The content CID of each conditioning work, after checking that every one may be used by a model:
    InputError naming each refused work (restricted, or its protocol forbids ML use) before anything is read."""
    from chain.derive import protocol_sources
    from core.types import Cid

    reg = c.registry.functions
    count = int(reg.workCount().call())
    refusals, cids = [], {}
    for w in dict.fromkeys(works):
        if not 1 <= w <= count:
            raise InputError(f"work {w} does not exist: `heritage work list` shows the registered works")
        view = reg.workOf(w).call()
        if int(view[1]) == 3 or not bytes(view[5]):
            refusals.append(f"work {w}: restricted (secret/sacred), never read")
            continue
        cids[w] = Cid(to_text(bytes(view[5])))
    for w, source in zip(list(cids), protocol_sources(c, list(cids.values())), strict=True):
        if source.restricted:
            refusals.append(f"work {w}: restricted (secret/sacred), never read")
        elif not source.ml_allowed:
            refusals.append(f"work {w}: its community's protocol forbids machine-learning use (or derivatives)")
    if refusals:
        raise InputError("nothing was generated or sent: " + "; ".join(refusals) +
                         ". Condition on works whose communities allow machine-learning use")
    return cids


def _generate_piece(saved: Any, t: Any, data: Mapping[int, bytes], cids: Mapping[int, Any], *, out: Path,
                    multimodal: Path, **settings: Any) -> dict[str, Any]:
    """`ml.generation.piece.make_piece`, with the corpus metrics measured against the Essen Han songs the
    model learned from when the model is the Han model and the piece is in its tradition, and the
    multimodal model read when a work is a recording."""
    from ml.generation.piece import PieceSettings, is_recording, make_piece

    heard = None
    if any(is_recording(b) for b in data.values()) and multimodal.exists():
        from ml.generation.multimodal import load as load_multimodal

        heard = load_multimodal(multimodal)

    reference = None
    if saved.facts.get("tradition") == t.id == "chinese_pentatonic":
        from ml.data.corpora import essen
        from ml.generation.lattice import han_corpus

        learned = set(saved.learned_from)
        reference = han_corpus([p for p in essen(("Chinese Han",)) if p.cid in learned], tradition=t).pieces
    return make_piece(saved, t, data, cids, settings=PieceSettings(**settings), out=out, reference_pieces=reference,
                      multimodal=heard)


if __name__ == "__main__":
    app()
