"""The simulated catalogue, registered for real: communities and heritage works from music21's
Essen collection (one community per region or collection), and derivatives of them (people's
arrangements and machine-made pieces, some with parents in two communities) registered on the
chain with their lineage. The simulation pays these works; the contracts route the money.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from web3 import Web3

from chain import calls
from chain import gateway as gw
from chain.catalogue import load
from chain.client import Chain
from chain.sender import Sender, dev_account
from chain.types import EMPTY_HASH, DerivativeParams, HeritageParams, Protocol, everything_to
from core.blockstore import ContentStore
from core.cid import from_text, to_text
from core.types import CommunityId, Ppm, WorkId
from economy.scenario import CatalogueSpec
from ml.data.abc import Tune, music21_corpus_dir, read_collection

STEWARD, CREATOR = 1, 2  # dev accounts that sign for every simulated community / creator
OPEN = Protocol()  # derivatives, commercial and ML use allowed; no consent; a 10 % floor


def account(label: str) -> str:
    """A deterministic address for a simulated holder (treasury, creator); it needs no key to be credited."""
    return Web3.to_checksum_address(hashlib.sha256(label.encode()).digest()[-20:])


@dataclass(frozen=True)
class Item:
    work_id: int
    community: int  # index into SimulatedCatalogue.communities of the (first) heritage root
    kind: str  # heritage | derivative
    parents: tuple[int, ...]
    title: str
    creator: int = -1  # index into SimulatedCatalogue.creators of a derivative's maker; -1 for heritage works


@dataclass
class SimulatedCatalogue:
    communities: list[str]  # names, index = community index
    community_ids: list[int]  # on-chain ids
    treasuries: list[str]
    creators: list[str]
    items: list[Item]  # index = item index in the simulation

    @property
    def item_group(self) -> np.ndarray:
        return np.array([it.community for it in self.items])

    @property
    def is_heritage(self) -> np.ndarray:
        return np.array([it.kind == "heritage" for it in self.items])

    def holders(self) -> dict[str, tuple[str, int]]:
        """Credited address → (holder kind, community index or creator index)."""
        out = {t: ("community", i) for i, t in enumerate(self.treasuries)}
        out.update({c: ("creator", i) for i, c in enumerate(self.creators)})
        return out


def regions(spec: CatalogueSpec) -> dict[str, list[Tune]]:
    """Songs per region: Chinese provinces from the Essen Han collections' O: field, and the
    Irish, Luxembourg and Lorraine collections, largest first, limited by the spec."""
    corpus = music21_corpus_dir() / "essenFolksong"
    groups: dict[str, list[Tune]] = defaultdict(list)
    for name in ("han1.abc", "han2.abc"):
        for tune in read_collection(corpus / name):
            if len(tune.origin) > 1 and " " not in tune.origin[1]:
                groups[f"{tune.origin[1]} (Han)"].append(tune)
    for name, label in (("irl.abc", "Irish"), ("lux.abc", "Luxembourg"), ("lot.abc", "Lorraine")):
        groups[label] = list(read_collection(corpus / name))
    ranked = sorted(((k, v) for k, v in groups.items() if len(v) >= spec.min_songs), key=lambda kv: (-len(kv[1]), kv[0]))
    # Interleave Chinese and European collections so a small scenario has both.
    chinese = [kv for kv in ranked if kv[0].endswith("(Han)")]
    european = [kv for kv in ranked if not kv[0].endswith("(Han)")]
    mixed = [kv for pair in zip(chinese, european, strict=False) for kv in pair]
    mixed += chinese[len(european):] + european[len(chinese):]
    return dict(mixed[: spec.communities])


def build(chain: Chain, store: ContentStore, spec: CatalogueSpec, seed: int) -> SimulatedCatalogue:
    """Register the communities, heritage works and derivatives of `spec` (reusing what a
    previous run registered: content already on chain is found by its CID)."""
    rng = np.random.default_rng(seed)
    steward = chain.accounts()[STEWARD]
    songs = regions(spec)
    names = list(songs)
    treasuries = [account(f"treasury:{n}") for n in names]
    indexed = load(chain.index())  # what earlier runs registered, by name and by content
    known = {c.name: c.community_id for c in indexed.communities.values()}
    by_content: dict[str, int] = {w.content_cid: w.work_id for w in indexed.works.values() if w.content_cid}
    community_ids = []
    for name, treasury in zip(names, treasuries, strict=True):
        if name not in known:
            known[name] = gw.register_community(chain, name=name, stewards=[steward], threshold=1, treasury=treasury,
                                                sender=steward)
        community_ids.append(known[name])

    items: list[Item] = []
    for ci, name in enumerate(names):
        batch, pending = [], []
        for tune in songs[name][: spec.max_works_per_community]:
            content = store.put_bytes(tune.text.encode())
            if content in by_content:
                items.append(Item(by_content[content], ci, "heritage", (), tune.title))
                continue
            batch.append(HeritageParams(CommunityId(community_ids[ci]), from_text(content), b"", OPEN,
                                        everything_to(treasuries[ci])))
            pending.append(tune.title)
        if batch:
            ids = gw.register_heritage_batch(chain, batch, sender=steward)  # everything to the treasury: registered at once
            items.extend(Item(w, ci, "heritage", (), t) for w, t in zip(ids, pending, strict=True) if w is not None)

    heritage = list(items)
    creators = [account(f"creator:{i}") for i in range(max(1, int(len(heritage) * spec.derivative_share) // 4))]
    lo, hi = spec.upstream_ppm
    model = from_text(store.put_bytes(b"simulated model weights"))
    planned: list[tuple[str, Item, tuple[int, ...], int]] = []
    to_register: list[DerivativeParams] = []
    for d in range(int(len(heritage) * spec.derivative_share)):
        first = heritage[int(rng.integers(len(heritage)))]
        parents: list[Item] = [first]
        if rng.random() < 0.2:  # a medley across two communities
            other = heritage[int(rng.integers(len(heritage)))]
            if other.community != first.community:
                parents.append(other)
        ppms = [int(rng.integers(lo, hi + 1)) for _ in parents]
        machine = rng.random() < spec.machine_share
        text = f"derivative {d} of {[p.work_id for p in parents]} ({'model' if machine else 'person'})"
        content = store.put_bytes(text.encode())
        maker = int(rng.integers(len(creators)))
        who = creators[maker]
        planned.append((content, first, tuple(p.work_id for p in parents), maker))
        if content not in by_content:
            params = DerivativeParams(from_text(content), b"", tuple(WorkId(p.work_id) for p in parents),
                                      tuple(Ppm(p) for p in ppms), everything_to(who), model if machine else b"",
                                      hashlib.sha256(text.encode()).digest() if machine else EMPTY_HASH)
            to_register.append(params)
    # Two JSON-RPC batches of signed transactions: the commitments (commit–reveal), mined before the
    # registrations are sent; the new ids come from their DerivativeRegistered events.
    sender = chain.signer or Sender(chain.w3, str(chain.w3.provider.endpoint_uri), dev_account(CREATOR),  # type: ignore[attr-defined]
                                    timeout_s=chain.settings.tx_timeout_s)
    registrant = sender.account.address
    commits = [calls.commit_calldata(chain, registrant, p.content, p.salt) for p in to_register]
    if commits:
        sender.transact_many(chain.registry.address, commits, gas=100_000)
    encoded = [calls.derivative_calldata(chain, p) for p in to_register]
    for receipt in sender.transact_many(chain.registry.address, encoded, gas=1_500_000) if encoded else []:
        for name, args in calls.receipt_events(chain, receipt):
            if name == "DerivativeRegistered":
                by_content[to_text(bytes(args["contentCid"]))] = int(args["workId"])
    for d, (cid_text, first_parent, parent_ids, maker) in enumerate(planned):
        items.append(Item(by_content[cid_text], first_parent.community, "derivative", parent_ids, f"derivative {d}", maker))
    return SimulatedCatalogue(names, community_ids, treasuries, creators, items)
