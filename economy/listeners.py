"""Listeners, sessions and streams: the usage that royalties pay for.

A hidden taste model stands in for the real listeners: each item has a position in a taste
space near its community's centre, and a base appeal that falls off along the catalogue's long
tail; each listener has a taste vector, a familiarity with heritage music (Beta) and a device.
A session shows the listener a recommended list; the listener walks down it, plays or skips
each item, stays a while (dwell) and may abandon the session after any item. A play of 30 s or
more is a stream, and every stream is a usage event with a timestamp (the industry's usual
threshold for a paid stream).

The recommenders (ml.recommendation) only ever see the streams, never the hidden model.
Everything is vectorised per simulated day; the run is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix

from economy.scenario import ListenerSpec

DAY = 86_400.0
STREAM_S = 30.0  # a play counts as a stream (and is paid) from 30 s on

RankFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""users → (item lists (n, k), their scores (n, k)) for one simulated day."""


@dataclass
class Population:
    taste: np.ndarray  # (listeners, d)
    familiarity: np.ndarray  # (listeners,) in (0, 1)
    device: np.ndarray  # (listeners,) index into devices
    devices: list[str]
    rate: np.ndarray  # sessions per day per listener


@dataclass
class World:
    """The hidden side: what listeners really like."""

    item_vec: np.ndarray  # (items, d)
    appeal: np.ndarray  # (items,) base appeal, long-tailed
    heritage: np.ndarray  # (items,) bool
    population: Population

    def utility(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Latent utility of `items` (n, k) for `users` (n,)."""
        p = self.population
        d = self.item_vec.shape[1]
        match = np.einsum("nd,nkd->nk", p.taste[users], self.item_vec[items]) / np.sqrt(d)
        fam = p.familiarity[users][:, None]
        # Familiar listeners value heritage recordings more; others lean to derivatives.
        heritage_pull = np.where(self.heritage[items], 1.2 * fam - 0.3, 0.2 - 0.4 * fam)
        return np.asarray(match + self.appeal[items] + heritage_pull)


def make_world(spec: ListenerSpec, item_group: np.ndarray, heritage: np.ndarray, seed: int) -> World:
    rng = np.random.default_rng([seed, 1])
    d = spec.taste_dims
    groups = int(item_group.max()) + 1
    centres = rng.normal(0, 1.0, size=(groups, d))
    item_vec = centres[item_group] + rng.normal(0, 0.6, size=(item_group.size, d))
    # Long tail: appeal falls with a random popularity rank (Zipf-like, exponent ~0.8).
    rank = rng.permutation(item_group.size) + 1
    appeal = -0.8 * np.log(rank) + 0.8 * np.log(item_group.size) / 2
    # Listeners cluster around communities' tastes too (diasporas, regional audiences).
    home = rng.integers(groups, size=spec.count)
    taste = 0.8 * centres[home] + rng.normal(0, 0.8, size=(spec.count, d))
    a, b = spec.familiarity
    devices = list(spec.devices)
    population = Population(
        taste=taste,
        familiarity=rng.beta(a, b, size=spec.count),
        device=rng.choice(len(devices), size=spec.count, p=list(spec.devices.values())),
        devices=devices,
        rate=rng.gamma(2.0, spec.sessions_per_week / 7 / 2.0, size=spec.count),
    )
    return World(item_vec, appeal, heritage.astype(bool), population)


DEVICE_EFFECT = {"mobile": 0.25, "desktop": -0.1, "speaker": -0.3}  # abandonment log-odds shift


@dataclass
class Log:
    """What a run produced: sessions, impressions (shown items) and streams (usage events)."""

    sessions: list[pd.DataFrame] = field(default_factory=list)
    impressions: list[pd.DataFrame] = field(default_factory=list)
    streams: list[pd.DataFrame] = field(default_factory=list)

    _cached: tuple[tuple[int, int, int], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] | None = field(
        default=None, repr=False, compare=False)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The three tables, concatenated once: the lists only grow, so their lengths say
        whether the last concatenation is still current."""
        key = (len(self.sessions), len(self.impressions), len(self.streams))
        if self._cached is None or self._cached[0] != key:
            def cat(parts: list[pd.DataFrame]) -> pd.DataFrame:
                return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
            self._cached = (key, (cat(self.sessions), cat(self.impressions), cat(self.streams)))
        return self._cached[1]


def simulate_day(world: World, day: int, rank: RankFn, rng: np.random.Generator, log: Log, *, t0: float) -> None:
    """One day of sessions for every listener; appends to `log`."""
    p = world.population
    n_sessions = rng.poisson(p.rate)
    users = np.repeat(np.arange(p.rate.size), n_sessions)
    if users.size == 0:
        return
    s = users.size
    start = t0 + day * DAY + np.sort(rng.uniform(0, DAY, size=s))
    rng.shuffle(users)
    lists, scores = rank(users)
    k = lists.shape[1]
    u = world.utility(users, lists)
    played = rng.random((s, k)) < 1 / (1 + np.exp(-(u - 0.5)))
    liked = 1 / (1 + np.exp(-u))
    dwell = np.where(played, rng.lognormal(np.log(20 + 160 * liked), 0.5), rng.uniform(2, 6, size=(s, k)))
    dev = np.array([DEVICE_EFFECT.get(name, 0.0) for name in p.devices])[p.device[users]]
    hazard = 1 / (1 + np.exp(-(-2.6 - 0.9 * u - 0.8 * p.familiarity[users][:, None] + dev[:, None])))
    stop = rng.random((s, k)) < hazard
    # Position at which the listener leaves (k if never): items after it are not reached.
    leave = np.where(stop.any(axis=1), stop.argmax(axis=1), k)
    reached = np.arange(k)[None, :] <= leave[:, None]  # the item they leave on was reached
    elapsed = np.cumsum(np.where(reached, dwell, 0), axis=1)
    stream = reached & played & (dwell >= STREAM_S)
    session_ids = np.arange(s) + sum(len(x) for x in log.sessions)
    log.sessions.append(pd.DataFrame({
        "session": session_ids, "listener": users, "day": day, "start": start,
        "items_reached": reached.sum(axis=1), "abandoned": leave < k, "seconds": elapsed[:, -1],
        "familiarity": p.familiarity[users], "device": np.array(p.devices)[p.device[users]],
    }))
    rows, cols = np.nonzero(reached)
    log.impressions.append(pd.DataFrame({
        "session": session_ids[rows], "listener": users[rows], "item": lists[rows, cols], "position": cols,
        "score": scores[rows, cols], "dwell": dwell[rows, cols], "played": played[rows, cols],
    }))
    rows, cols = np.nonzero(stream)
    log.streams.append(pd.DataFrame({
        "listener": users[rows], "item": lists[rows, cols],
        "time": start[rows] + elapsed[rows, cols],
    }))


def interactions(streams: pd.DataFrame, listeners: int, items: int) -> csr_matrix:
    """Stream counts per listener and item: what the recommenders learn from."""
    if streams.empty:
        return csr_matrix((listeners, items))
    m = coo_matrix((np.ones(len(streams)), (streams["listener"].to_numpy(), streams["item"].to_numpy())),
                   shape=(listeners, items))
    return m.tocsr()
