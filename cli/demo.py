"""`heritage demo`: the whole platform on the embedded defaults, from a fresh machine.

Starts anvil (state kept under the data directory), deploys, registers communities and a real
catalogue of heritage works from music21's bundled folk-song corpora with their own metadata,
registers derivatives (a person's arrangement that needs consent, and a machine-made melody
with its model stored by CID), pays and withdraws royalties, raises and resolves a dispute,
shows refused actions with their named errors, and audits every work. Safe to rerun: what is
registered already is found and reused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chain.client import Chain, connect
from chain.errors import ContractRevert
from core.blockstore import open_store
from core.cid import from_text, to_text
from core.config import Settings
from core.errors import InputError
from core.manifest import (
    DerivativeManifest,
    HeritageManifest,
    Label,
    Manifest,
    Parent,
    PersonMaker,
    Recording,
    Source,
    to_bytes,
)
from core.types import ETH, PPM, Cid
from ml.data.abc import Tune, music21_corpus_dir, read_collection

EMPTY32 = b"\0" * 32


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    stewards: tuple[int, ...]  # indices into the node's dev accounts
    threshold: int
    treasury: int


COMMUNITIES = (
    CommunitySpec("Shaanxi folk singers (Han, Xiaodiao and Shange)", (1, 2, 3), 2, 6),
    CommunitySpec("Hubei folk singers (Han)", (4,), 1, 7),
    CommunitySpec("Irish traditional musicians", (5,), 1, 8),
)
CREATOR, PAYER = 9, 0


def revoice(midi: Path, out: Path, *, program: str, tempo_scale: float) -> None:
    """The same MIDI file played by another GM instrument at `tempo_scale` times the tempo (the remix)."""
    import mido  # type: ignore[import-untyped]

    from ml.data.render import program_number

    f = mido.MidiFile(midi)
    for track in f.tracks:
        for i, msg in enumerate(track):
            if msg.type == "program_change":
                track[i] = msg.copy(program=program_number(program))
            elif msg.type == "set_tempo":
                track[i] = msg.copy(tempo=round(msg.tempo / tempo_scale))
    f.save(out)


def protocol(*, consent: bool = False, ml: bool = True, floor: int = 100_000, labels: int = 0) -> tuple[Any, ...]:
    return (True, consent, True, ml, True, False, floor, labels, 1)


class Demo:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.store = open_store(settings)
        self.chain: Chain | None = None
        self.paid_total = 0
        self.generated = ""

    # ------------------------------------------------------------------ helpers
    @property
    def c(self) -> Chain:
        assert self.chain is not None
        return self.chain

    def acct(self, i: int) -> str:
        return str(self.c.w3.eth.accounts[i])

    def store_manifest(self, manifest: Manifest) -> bytes:
        return from_text(self.store.put_bytes(to_bytes(manifest)))

    def community(self, spec: CommunitySpec) -> int:
        reg = self.c.registry.functions
        for cid in range(1, reg.communityCount().call() + 1):
            if reg.communityOf(cid).call()[0] == spec.name:
                return cid
        stewards = [self.acct(i) for i in spec.stewards]
        self.c.send(reg.registerCommunity(spec.name, stewards, spec.threshold, self.acct(spec.treasury)), self.acct(0))
        return int(reg.communityCount().call())

    def heritage(self, community: int, spec: CommunitySpec, tunes: list[Tune], proto: tuple[Any, ...]) -> list[int]:
        reg = self.c.registry.functions
        ids: list[int] = []
        batch = []
        for tune in tunes:
            content = from_text(self.store.put_bytes(tune.text.encode()))
            existing = reg.workByContent(content).call()
            if existing:
                ids.append(int(existing))
                continue
            han = "China" in tune.origin
            manifest = self.store_manifest(HeritageManifest(
                title=tune.title, content_cid=to_text(content), community=spec.name, community_id=community,
                tradition="Han Chinese folk song" if han else "Irish traditional music",
                region=", ".join(tune.origin) or None, genre=tune.genre or None,
                language="Chinese" if han else None, instruments=("voice",) if han else ("fiddle", "flute"),
                recording=Recording(media_type="text/vnd.abc", recorded_by="Essen folksong collection"),
                source=Source(collection=f"Essen folksong collection: {tune.collection}",
                              reference=f"music21 corpus essenFolksong/{tune.collection}.abc, X:{tune.number}"),
                labels=(Label(id="TK Attribution"),) + ((Label(id="TK Community Voice"),) if han else ()),
            ))
            split = [(self.acct(spec.treasury), 700_000), (self.acct(spec.stewards[0]), 300_000)]
            batch.append((community, content, manifest, proto, split))
        if batch:
            first = int(reg.workCount().call()) + 1
            self.c.send(reg.registerHeritageWorks(batch), self.acct(spec.stewards[0]))
            ids.extend(range(first, first + len(batch)))
        return ids

    def derivative(self, content_text: bytes, title: str, maker: PersonMaker, parents: list[int], ppms: list[int]) -> int:
        """A person's derivative (machine-made ones go through `chain.derive.register_output`)."""
        reg = self.c.registry.functions
        content = from_text(self.store.put_bytes(content_text))
        existing = reg.workByContent(content).call()
        if existing:
            return int(existing)
        manifest_cid = self.store_manifest(DerivativeManifest(
            title=title, content_cid=to_text(content), maker=maker,
            parents=tuple(Parent(work_id=w, ppm=p) for w, p in zip(parents, ppms, strict=True)),
        ))
        split = [(self.acct(CREATOR), PPM)]
        params = (content, manifest_cid, parents, ppms, split, b"", EMPTY32, False)
        self.c.send(reg.registerDerivative(params), self.acct(CREATOR))
        return int(reg.workCount().call())

    def machine_piece(self, works: list[int]) -> tuple[int, Path, bytes, bytes]:
        """A small lattice transformer trained on exactly the Irish works it derives from (those that
        encode on the `irish_traditional` lattice), a 20-s piece decoded under the tradition's masks,
        rendered and registered through `chain.derive.register_output` (model CID, parameters hash and
        metrics in the manifest). Returns the work, a re-voiced MIDI for the remix, and the model CID and
        parameters hash it was registered with (for the refused-registration check)."""
        from chain.derive import register_output
        from core.types import Cid
        from ml.generation.lattice import NotEncodable, encode_content
        from ml.generation.piece import PieceSettings, fit_on_works, make_piece
        from ml.generation.tradition import load_tradition

        reg = self.c.registry.functions
        t = load_tradition("irish_traditional")
        cids = {w: Cid(to_text(bytes(reg.workOf(w).call()[5]))) for w in works}
        data = {w: b"".join(self.store.cat(cid)) for w, cid in cids.items()}
        pieces = {}
        for w in works:
            try:
                pieces[w] = encode_content(data[w], tradition=t, cid=str(cids[w]))
            except NotEncodable:
                continue  # a tune whose barlines fall off the metre's cycle: not learned from, not credited
        cycle = max({p.cycle for p in pieces.values()}, key=lambda c: sum(p.cycle == c for p in pieces.values()))
        used = [w for w, p in pieces.items() if p.cycle == cycle]
        out = self.settings.data_dir / "generated"
        model_file = out / "demo-irish-lattice.pt"
        saved = fit_on_works([pieces[w] for w in used], tradition=t, path=model_file)
        settings = PieceSettings(cycle=cycle, seconds=20.0, bpm=100.0, seed=7, prompt_bars=1, instrument="flute")
        result = make_piece(saved, t, {w: data[w] for w in used}, {w: cids[w] for w in used}, settings=settings, out=out,
                            reference_pieces=[pieces[w] for w in used])
        r = result["register"]
        d = register_output(self.c, self.store, content=Path(result["midi"]), renditions={"audio/wav": Path(result["wav"])},
                            model_file=model_file, architecture="generation/lattice-transformer",
                            made_from=[str(cids[w]) for w in used], operator=self.acct(CREATOR), title=r["title"],
                            description=r["description"], parameters=r["parameters"], seed=settings.seed,
                            metrics=r["metrics"], upstream_ppm=200_000)
        if d.model_work is None:  # the Irish protocol asks no consent; a changed protocol would leave it pending
            raise InputError(f"the generated piece awaits consent from {[a.community for a in d.awaiting]}: approve it and rerun")
        remix = out / "demo-irish-remix.mid"
        revoice(Path(result["midi"]), remix, program="bagpipe", tempo_scale=0.75)
        self.generated = (f"Machine-made: work {d.model_work}, {result['bars']} cycles of {cycle} in {t.id} ({result['mode']}) "
                          f"by a lattice transformer trained on works {used} only (training loss "
                          f"{saved.facts['train_loss']:.2f} nats/token); {result['midi']}, {result['wav']} ({result['renderer']}); "
                          f"modal error {r['metrics']['modal_error_cents']:.2f} cents from the notes"
                          + (f", {r['metrics']['modal_error_audio_cents']:.2f} from the audio" if "modal_error_audio_cents"
                             in r["metrics"] else "") + ".")
        model_cid, params_hash = reg.machineProvenanceOf(d.model_work).call()  # as registered, not recomputed
        return d.model_work, remix, bytes(model_cid), bytes(params_hash)

    def pay(self, work: int, wei: int, ref: str) -> None:
        usage = hashlib.sha256(ref.encode()).digest()
        now = self.c.w3.eth.get_block("latest")["timestamp"]
        self.c.send(self.c.router.functions.pay(work, usage, now), self.acct(PAYER), value=wei)
        self.paid_total += wei

    def refused(self, label: str, fn: Any, sender: str) -> tuple[str, str]:
        try:
            self.c.send(fn, sender)
        except ContractRevert as err:
            return label, str(err)
        return label, "NOT REFUSED (unexpected)"

    # ------------------------------------------------------------------ the run
    def run(self) -> int:
        corpus = music21_corpus_dir() / "essenFolksong"
        han = list(read_collection(corpus / "han1.abc"))
        shaanxi = [t for t in han if len(t.origin) > 1 and t.origin[1] == "Shaanxi"][:12]
        hubei = [t for t in han if len(t.origin) > 1 and t.origin[1] == "Hubei"][:12]
        irish = list(read_collection(corpus / "irl.abc"))[:10]
        refusals: list[tuple[str, str]] = []
        with Progress(console=self.console, transient=False) as progress:
            task = progress.add_task("starting the embedded chain", total=9)
            self.chain = connect(self.settings)
            progress.update(task, advance=1, description="registering communities")
            ids = [self.community(spec) for spec in COMMUNITIES]
            progress.update(task, advance=1, description="registering heritage works (Essen collection)")
            w_shaanxi = self.heritage(ids[0], COMMUNITIES[0], shaanxi, protocol(consent=True, floor=150_000))
            w_hubei = self.heritage(ids[1], COMMUNITIES[1], hubei, protocol(ml=False, floor=100_000))
            w_irish = self.heritage(ids[2], COMMUNITIES[2], irish, protocol(floor=100_000))
            reg = self.c.registry.functions
            secret = hashlib.sha256(b"demo salt" + hubei[-1].text.encode()).digest()
            if not reg.workByContent(secret).call():
                self.c.send(reg.registerRestrictedWork(ids[1], secret, b"", 1 << 14, 1), self.acct(4))
            restricted = int(reg.workByContent(secret).call())

            progress.update(task, advance=1, description="a person's arrangement (needs Shaanxi consent)")
            arrangement = self.derivative(
                shaanxi[0].text.replace("T:", "T:Arrangement of ", 1).encode(),
                f"Arrangement of {shaanxi[0].title}", PersonMaker(address=self.acct(CREATOR)),
                [w_shaanxi[0]], [200_000],
            )
            for steward in COMMUNITIES[0].stewards[:2]:
                if reg.consentNeeded(arrangement, ids[0]).call():
                    self.c.send(reg.approveDerivative(arrangement, ids[0]), self.acct(steward))

            progress.update(task, advance=1, description="a machine-made piece from Irish tunes (lattice transformer)")
            generated, remix_midi, model_cid, params_hash = self.machine_piece(w_irish)
            remix = self.derivative(
                remix_midi.read_bytes(),
                "Remix of the generated Irish piece, re-voiced for uilleann pipes", PersonMaker(address=self.acct(CREATOR)),
                [generated, arrangement], [150_000, 150_000],
            )
            for steward in COMMUNITIES[0].stewards[:2]:  # the remix descends from a Shaanxi song too
                if reg.consentNeeded(remix, ids[0]).call():
                    self.c.send(reg.approveDerivative(remix, ids[0]), self.acct(steward))

            progress.update(task, advance=1, description="refused actions")
            refusals.append(self.refused(
                "machine-learning derivative of a Hubei song (protocol forbids ML)",
                reg.registerDerivative((from_text(self.store.put_bytes(b"ml on hubei")), b"", [w_hubei[0]],
                                        [200_000], [(self.acct(CREATOR), PPM)], model_cid, params_hash, False)),
                self.acct(CREATOR)))
            refusals.append(self.refused(
                "derivative of a restricted (secret/sacred) work",
                reg.registerDerivative((from_text(self.store.put_bytes(b"restricted remix")), b"", [restricted],
                                        [200_000], [(self.acct(CREATOR), PPM)], b"", EMPTY32, False)),
                self.acct(CREATOR)))
            refusals.append(self.refused(
                "a non-steward registering a Shaanxi song",
                reg.registerHeritageWork((ids[0], from_text(self.store.put_bytes(shaanxi[-1].text.encode() + b"%")),
                                          b"", protocol(), [(self.acct(6), PPM)])),
                self.acct(CREATOR)))

            progress.update(task, advance=1, description="paying royalties")
            for i, work in enumerate([arrangement, generated, remix, *w_shaanxi[:3], *w_irish[:3]]):
                self.pay(work, 10**17 + i * 10**15, f"stream-{work}-{i}")

            progress.update(task, advance=1, description="a dispute, escrow and its resolution")
            if reg.disputeOf(remix).call() == 0:
                self.c.send(reg.raiseDispute(remix, ids[0], b""), self.acct(1))
            self.pay(remix, 5 * 10**16, "stream-during-dispute")
            escrowed = int(self.c.router.functions.escrowOf(remix, ETH).call())
            for steward in COMMUNITIES[0].stewards[:2]:
                if reg.disputeOf(remix).call() != 0:
                    self.c.send(reg.resolveDispute(remix, False), self.acct(steward))

            progress.update(task, advance=1, description="withdrawing")
            withdrawn = {}
            for spec in COMMUNITIES:
                who = self.acct(spec.treasury)
                amount = int(self.c.router.functions.balanceOf(ETH, who).call())
                if amount:
                    self.c.send(self.c.router.functions.withdraw(ETH), who)
                withdrawn[spec.name] = amount

            progress.update(task, advance=1, description="auditing the catalogue")
            verdicts = self.audit()
            verdicts.append(self.solvency())
            progress.update(task, advance=1, description="done")
        return self.report(verdicts, refusals, withdrawn, escrowed)

    def audit(self) -> list[tuple[int, str, str, str]]:
        """Per work: stored content re-hashed against the chain's CID, lineage to heritage roots."""
        reg = self.c.registry.functions
        rows = []
        for work in range(1, reg.workCount().call() + 1):
            kind, _, _, _, _, content, _, _ = reg.workOf(work).call()
            if not content:
                rows.append((work, "restricted", "commitment only", "-"))
                continue
            cid = to_text(bytes(content))
            try:
                data = b"".join(self.store.cat(cid))
                ok = self.store.put_bytes(data) == cid
            except Exception as exc:
                ok = False
                cid = Cid(f"{cid} ({exc})")
            roots = reg.rootsOf(work).call()
            rows.append((work, "heritage" if kind == 1 else "derivative", "content OK" if ok else f"MISMATCH {cid}",
                         ",".join(map(str, roots))))
        return rows

    def solvency(self) -> tuple[int, str, str, str]:
        """The router holds exactly what it owes: every unwithdrawn credit plus escrow."""
        router = self.c.router
        held = int(self.c.w3.eth.get_balance(router.address))
        owed = sum(int(router.functions.balanceOf(ETH, self.acct(i)).call()) for i in range(10))
        owed += sum(int(router.functions.escrowOf(w, ETH).call())
                    for w in range(1, self.c.registry.functions.workCount().call() + 1))
        verdict = "credits add up" if held == owed else f"MISMATCH held {held} owed {owed}"
        return 0, "router", verdict, f"{held} wei held"

    def report(self, verdicts: list[tuple[int, str, str, str]], refusals: list[tuple[str, str]],
               withdrawn: dict[str, int], escrowed: int) -> int:
        t = Table(title="Audit: stored content re-hashed against the chain, lineage roots")
        for col in ("work", "kind", "content", "heritage roots"):
            t.add_column(col)
        for w, k, v, roots in verdicts:
            t.add_row(str(w), k, v, roots)
        self.console.print(t)
        r = Table(title="Refused, with the contracts' named errors")
        r.add_column("attempt")
        r.add_column("error")
        for a, e in refusals:
            r.add_row(a, e)
        self.console.print(r)
        m = Table(title="Royalties withdrawn by community treasuries (this run)")
        m.add_column("community")
        m.add_column("ETH", justify="right")
        for name, wei in withdrawn.items():
            m.add_row(name, f"{wei / 10**18:.6f}")
        self.console.print(m)
        bad = [v for v in verdicts if "MISMATCH" in v[2]] + [a for a in refusals if "NOT REFUSED" in a[1]]
        self.console.print(
            f"Paid this run: {self.paid_total / 10**18:.4f} ETH; escrowed during the dispute and released on "
            f"dismissal: {escrowed / 10**18:.4f} ETH; gas used by {len(self.c.gas_used)} transactions: "
            f"{sum(self.c.gas_used):,}."
        )
        self.console.print(self.generated)
        self.console.print(
            f"Where to look next: blocks in {self.settings.blocks_dir}, anvil state in {self.settings.anvil_state}, "
            f"addresses in {self.settings.deployments_dir}; contracts/README.md for the rules and gas figures."
        )
        self.console.print("[bold green]demo finished: every check passed[/]" if not bad else f"[bold red]{len(bad)} checks failed[/]")
        self.c.close()
        return 1 if bad else 0


def run(settings: Settings, console: Console) -> int:
    demo = Demo(settings, console)
    try:
        return demo.run()
    finally:
        if demo.chain is not None:
            demo.chain.close()
