"""`heritage demo`: the whole platform on the embedded defaults, from a fresh machine.

Starts anvil (state kept under the data directory), deploys, registers communities and a real
catalogue of heritage works from music21's bundled folk-song corpora with their own metadata,
registers derivatives (a person's arrangement that needs consent, and a machine-made melody
with its model stored by CID), pays royalties, submits a usage statement and verifies a line,
withdraws royalties, raises claims with a bond (one
dismissed by the dispute committee, one withdrawn by the claimant community's stewards), shows
refused actions with their named errors, and audits every work. Every registration commits first
and reveals in a later block (commit–reveal). Safe to rerun: what is registered already is found
and reused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from chain import calls
from chain import gateway as gw
from chain.audit import audit_catalogue, router_solvency
from chain.client import connect
from chain.types import DerivativeParams, HeritageParams, Protocol, Recipient, everything_to
from cli.demo_base import COMMUNITIES, CREATOR, PAYER, CommunitySpec, DemoBase, protocol
from cli.demo_statement import statement_step
from core.cid import from_text, to_text
from core.config import Settings
from core.errors import InputError
from core.manifest import (
    DerivativeManifest,
    HeritageManifest,
    Label,
    Parent,
    PersonMaker,
    Recording,
    Source,
)
from core.types import ETH, Cid, CommunityId, Ppm, WorkId
from ml.data.abc import Tune, music21_corpus_dir, read_collection


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



class Demo(DemoBase):
    def community(self, spec: CommunitySpec) -> CommunityId:
        for cid in range(1, gw.community_count(self.c) + 1):
            if gw.community(self.c, cid).name == spec.name:
                return CommunityId(cid)
        stewards = [self.acct(i) for i in spec.stewards]
        return gw.register_community(self.c, name=spec.name, stewards=stewards, threshold=spec.threshold,
                                     treasury=self.acct(spec.treasury), sender=self.acct(0))

    def heritage(self, community: CommunityId, spec: CommunitySpec, tunes: list[Tune], proto: Protocol) -> list[WorkId]:
        ids: list[WorkId] = []
        batch = []
        for tune in tunes:
            content = from_text(self.store.put_bytes(tune.text.encode()))
            existing = gw.work_by_content(self.c, content)
            if existing:
                ids.append(existing)
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
            batch.append(HeritageParams(community, content, manifest, proto, everything_to(self.acct(spec.treasury))))
        if batch:  # everything to the treasury: one steward registers, whatever the community's threshold
            ids.extend(w for w in gw.register_heritage_batch(self.c, batch, sender=self.acct(spec.stewards[0])) if w)
        return ids

    def shared_split(self, community: CommunityId, spec: CommunitySpec, tune: Tune, proto: Protocol) -> WorkId:
        """A heritage work whose 70/30 split (treasury, first steward) needs k of the community's
        stewards: each registers the same parameters (salt included); the k-th call registers it."""
        content = from_text(self.store.put_bytes(tune.text.encode()))
        existing = gw.work_by_content(self.c, content)
        if existing:
            return existing
        split = (Recipient(self.acct(spec.treasury), Ppm(700_000)), Recipient(self.acct(spec.stewards[0]), Ppm(300_000)))
        params = HeritageParams(community, content, b"", proto, split)
        for steward in spec.stewards[:spec.threshold]:
            work = gw.register_heritage(self.c, params, sender=self.acct(steward))
        assert work is not None, "the k-th steward's call registers it"
        return work

    def derivative(self, content_text: bytes, title: str, maker: PersonMaker, parents: list[WorkId], ppms: list[int]) -> WorkId:
        """A person's derivative (machine-made ones go through `chain.derive.register_output`)."""
        content = from_text(self.store.put_bytes(content_text))
        existing = gw.work_by_content(self.c, content)
        if existing:
            return existing
        manifest_cid = self.store_manifest(DerivativeManifest(
            title=title, content_cid=to_text(content), maker=maker,
            parents=tuple(Parent(work_id=w, ppm=p) for w, p in zip(parents, ppms, strict=True)),
        ))
        params = DerivativeParams(content, manifest_cid, tuple(parents), tuple(Ppm(p) for p in ppms),
                                  everything_to(self.acct(CREATOR)))
        return gw.register_derivative(self.c, params, sender=self.acct(CREATOR))

    def machine_piece(self, works: list[WorkId]) -> tuple[WorkId, Path, bytes, bytes]:
        """A small lattice transformer trained on exactly the Irish works it derives from (those that
        encode on the `irish_traditional` lattice), a 20-s piece decoded under the tradition's masks,
        rendered and registered through `chain.derive.register_output` (model CID, parameters hash and
        metrics in the manifest). Returns the work, a re-voiced MIDI for the remix, and the model CID and
        parameters hash it was registered with (for the refused-registration check)."""
        from chain.derive import register_output
        from ml.generation.encoding import NotEncodable, encode_content
        from ml.generation.piece import PieceSettings, fit_on_works, make_piece
        from ml.tradition import load_tradition

        t = load_tradition("irish_traditional")
        cids = {w: Cid(to_text(gw.work(self.c, w).content)) for w in works}
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
                            metrics=r["metrics"], upstream_ppm=400_000)  # ≥ 40,000 ppm per Irish root
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
        made = gw.provenance_of(self.c, d.model_work)  # as registered, not recomputed
        return d.model_work, remix, made.model, made.params_hash

    # ------------------------------------------------------------------ the run
    def run(self) -> int:
        corpus = music21_corpus_dir() / "essenFolksong"
        han = list(read_collection(corpus / "han1.abc"))
        shaanxi = [t for t in han if len(t.origin) > 1 and t.origin[1] == "Shaanxi"][:12]
        hubei = [t for t in han if len(t.origin) > 1 and t.origin[1] == "Hubei"][:12]
        irish = list(read_collection(corpus / "irl.abc"))[:10]
        refusals: list[tuple[str, str]] = []
        with Progress(console=self.console, transient=False) as progress:
            task = progress.add_task("starting the embedded chain", total=10)
            self.chain = connect(self.settings)
            progress.update(task, advance=1, description="registering communities")
            ids = [self.community(spec) for spec in COMMUNITIES]
            progress.update(task, advance=1, description="registering heritage works (Essen collection)")
            shaanxi_protocol = protocol(consent=True, floor=50_000, commercial=False)
            w_shaanxi = self.heritage(ids[0], COMMUNITIES[0], shaanxi[:-2], shaanxi_protocol)
            shared = self.shared_split(ids[0], COMMUNITIES[0], shaanxi[-2], shaanxi_protocol)
            w_hubei = self.heritage(ids[1], COMMUNITIES[1], hubei, protocol(ml=False, floor=100_000))
            w_irish = self.heritage(ids[2], COMMUNITIES[2], irish, protocol(floor=5_000))
            secret = hashlib.sha256(b"demo salt" + hubei[-1].text.encode()).digest()
            restricted = gw.work_by_content(self.c, secret) or gw.register_restricted(
                self.c, community=ids[1], commitment=secret, labels=1 << 14, labels_version=1, sender=self.acct(4))

            progress.update(task, advance=1, description="a person's arrangement (needs Shaanxi consent)")
            arrangement = self.derivative(
                shaanxi[0].text.replace("T:", "T:Arrangement of ", 1).encode(),
                f"Arrangement of {shaanxi[0].title}", PersonMaker(address=self.acct(CREATOR)),
                [w_shaanxi[0]], [200_000],
            )
            for steward in COMMUNITIES[0].stewards[:2]:
                if gw.consent_needed(self.c, arrangement, ids[0]):
                    gw.approve_derivative(self.c, arrangement, ids[0], sender=self.acct(steward))

            progress.update(task, advance=1, description="a machine-made piece from Irish tunes (lattice transformer)")
            generated, remix_midi, model_cid, params_hash = self.machine_piece(w_irish)
            remix = self.derivative(
                remix_midi.read_bytes(),
                "Remix of the generated Irish piece, re-voiced for uilleann pipes", PersonMaker(address=self.acct(CREATOR)),
                [generated, arrangement], [250_000, 250_000],  # 50,000 ppm to the Shaanxi root: its floor
            )
            for steward in COMMUNITIES[0].stewards[:2]:  # the remix descends from a Shaanxi song too
                if gw.consent_needed(self.c, remix, ids[0]):
                    gw.approve_derivative(self.c, remix, ids[0], sender=self.acct(steward))

            progress.update(task, advance=1, description="refused actions")
            refusals.append(self.refused_derivative(
                "machine-learning derivative of a Hubei song (protocol forbids ML)",
                DerivativeParams(from_text(self.store.put_bytes(b"ml on hubei")), b"", (w_hubei[0],), (Ppm(200_000),),
                                 everything_to(self.acct(CREATOR)), model_cid, params_hash)))
            refusals.append(self.refused_derivative(
                "derivative of a restricted (secret/sacred) work",
                DerivativeParams(from_text(self.store.put_bytes(b"restricted remix")), b"", (restricted,), (Ppm(200_000),),
                                 everything_to(self.acct(CREATOR)))))
            refusals.append(self.refused_derivative(
                "a decoy parent: 190,000 ppm to an Irish tune, 10,000 to a Shaanxi song (its floor is 50,000)",
                DerivativeParams(from_text(self.store.put_bytes(b"decoy medley")), b"", (w_irish[0], w_shaanxi[1]),
                                 (Ppm(190_000), Ppm(10_000)), everything_to(self.acct(CREATOR)))))
            loosened = self.lone_loosening(w_shaanxi[2])
            refusals.append(self.refused_derivative(
                f"a commercial derivative after one steward alone loosened the protocol ({loosened})",
                DerivativeParams(from_text(self.store.put_bytes(b"commercial cover")), b"", (w_shaanxi[2],),
                                 (Ppm(200_000),), everything_to(self.acct(CREATOR)), commercial=True)))
            refusals.append(self.refused(
                "a non-steward registering a Shaanxi song",
                calls.register_heritage(self.c, HeritageParams(
                    ids[0], from_text(self.store.put_bytes(shaanxi[-1].text.encode() + b"%")), b"", protocol(),
                    everything_to(self.acct(6)))),
                self.acct(CREATOR)))

            progress.update(task, advance=1, description="paying royalties")
            for i, work in enumerate([arrangement, generated, remix, *w_shaanxi[:3], *w_irish[:3]]):
                self.pay(work, 10**17 + i * 10**15, f"stream-{work}-{i}")
            progress.update(task, advance=1, description="a usage statement: anchored, settled, a line verified")
            statement = statement_step(self.c, [arrangement, remix, *w_irish[:2]], self.acct(PAYER))

            progress.update(task, advance=1, description="claims with a bond, the committee's ruling, escrow")
            escrowed, stale = self.claims(remix, arrangement, ids[0])
            refusals.append(stale)
            self.pay(shared, 10**16, "stream-shared-split")

            progress.update(task, advance=1, description="withdrawing")
            withdrawn = {}
            for spec in COMMUNITIES:
                who = self.acct(spec.treasury)
                amount = gw.balance_of(self.c, who, ETH)
                if amount:
                    gw.withdraw(self.c, ETH, sender=who)
                withdrawn[spec.name] = int(amount)

            progress.update(task, advance=1, description="auditing the catalogue")
            verdicts = self.audit()
            verdicts.append(self.solvency())
            verdicts.append(statement)
            progress.update(task, advance=1, description="done")
        return self.report(verdicts, refusals, withdrawn, escrowed)

    def audit(self) -> list[tuple[int, str, str, str]]:
        """Per work, chain.audit's verdicts (content re-hashed against the chain's CID, manifest,
        lineage to heritage roots, protocols) as one row: "content OK" when every check passed."""
        _, results = audit_catalogue(self.c, self.store)
        rows = []
        for r in results:
            if not r.content_cid:
                rows.append((r.work_id, "restricted", "commitment only", "-"))
                continue
            failed = "; ".join(f"{v.check}: {v.detail}" for v in r.verdicts if not v.ok)
            rows.append((r.work_id, r.kind, "content OK" if r.ok else f"MISMATCH {r.content_cid}: {failed}",
                         ",".join(map(str, r.roots))))
        return rows

    def solvency(self) -> tuple[int, str, str, str]:
        """The router holds exactly what it owes (chain.audit.router_solvency) to the development accounts."""
        s = router_solvency(self.c, [self.acct(i) for i in range(10)])
        verdict = "credits add up" if s.ok else f"MISMATCH held {s.held} owed {s.owed}"
        return 0, "router", verdict, f"{s.held} wei held"

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
            f"Paid this run: {self.paid_total / 10**18:.4f} ETH; escrowed during the claim and released to the "
            f"remix's split when the committee dismissed it: {escrowed / 10**18:.4f} ETH; gas used by "
            f"{len(self.c.gas_used)} transactions: {sum(self.c.gas_used):,}."
        )
        self.console.print(self.generated)
        rpc = self.settings.rpc_url
        node = f"the node at {rpc}" if rpc else f"anvil state in {self.settings.anvil_state}"
        self.console.print(
            f"Where to look next: blocks in {self.settings.blocks_dir}, {node}, "
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
