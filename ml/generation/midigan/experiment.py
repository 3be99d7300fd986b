"""The MIDI-GAN experiment (issue 8): the GAN, the LSTM and the Transformer trained on the same rolls,
sampled and measured against the held-out rolls.

Data: `rolls.prepare` (the Essen Han songs the protocols allow, 80-step sixteenth-note rolls, split
by piece). All three networks are trained on the training rolls only (the baselines keep their best
validation epoch; the GAN, which has no validation loss, is checked every `validate_every` steps by
how close its samples come to the validation rolls' PPL, UPC, GC and EBR (`gan_validation`), keeps
its best check's weights and stops after `patience` checks without a better one). Each then makes
`samples` rolls (seeded). Rows: **reference** = the held-out test rolls themselves (the real data's
own values), then GAN, LSTM, Transformer. Per row, means over its rolls:

- **PPL** under the reference model — `StepNgram`: an interpolated trigram over the step tokens
  (REST, HOLD, onset of pitch p), fitted on the training rolls only (every window, so overlapping
  windows count each time), each order smoothed toward the next lower one with a Dirichlet prior of
  strength β = 1 (MacKay & Peto 1995: p_k(w | h) = (c(h, w) + β · p_{k−1}(w | h′)) / (c(h) + β), h′
  the context shortened by one, the order-0 estimate smoothed toward uniform). PPL is exp of the mean
  negative log-probability per step over all the row's steps. It is independent of all three
  networks; since most steps are HOLDs its values are small, and a row below the reference row is
  more predictable than real music, not better.
- **UPC**, **GC**, **EBR**: `ml.metrics.pianoroll` with 16 steps a bar and 4 a beat, the onsets from
  the tokens (so a re-struck note counts).
- Checks: notes per bar, the share of steps where a HOLD had nothing sounding (read as rest: a
  grammar slip of the token models), and the share of rolls that copy a training roll exactly.

Models are saved as `midigan-gan.pt`, `midigan-lstm.pt`, `midigan-transformer.pt` (tensors and
plain values, read with `ml.saved.read_saved`): the weights, the network config, the split's id,
the training songs' CIDs and `facts` (training time, losses).

Training and sampling run on one intra-op thread (`one_thread`): these networks are small, and on two
cores busy with another training, two threads made a GAN step tens of times slower than one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from core.errors import InputError
from core.types import Progress
from ml.data.corpora import Piece
from ml.data.training import Source
from ml.generation.midigan import baselines, gan
from ml.generation.midigan.rolls import (
    FIRST_ONSET,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    RollConfig,
    Rolls,
    Tokens,
    canonical,
    channels,
    prepare,
    tokens_to_roll,
)
from ml.metrics.fidelity import perplexity
from ml.metrics.pianoroll import empty_beat_rate, groove_consistency, used_pitch_classes
from ml.saved import read_saved

ROWS = ("reference", "gan", "lstm", "transformer")
MODELS = ("gan", "lstm", "transformer")
MODEL_FILES = {m: f"midigan-{m}.pt" for m in MODELS}
FORMAT = "heritage-midigan-1"
COMMAND = "heritage generation midigan"
PAPER = {"ppl": 1.70, "upc": 8.43, "gc": 0.81, "ebr": 0.11}
"""The seed study's MIDI-GAN figures (Daur music, its own data): quoted, never ours."""


@dataclass(frozen=True)
class MidiganConfig:
    rolls: RollConfig = field(default_factory=RollConfig)
    width: int = 32
    """Channels of the GAN's generator and critic branches, and the baselines' embedding/hidden width."""
    heads: int = 4
    lm_layers: int = 2
    z_dim: int = 64
    gan_train: gan.GanTrainConfig = field(default_factory=gan.GanTrainConfig)
    lm_train: baselines.LmTrainConfig = field(default_factory=baselines.LmTrainConfig)
    samples: int = 256
    validate_every: int = 250
    """Generator steps between the GAN's checks against the validation rolls (`gan.Validation`)."""
    patience: int | None = 8
    """Checks without a better score before the GAN stops (None: all of `gan_train.steps`)."""
    ngram_order: int = 3
    ngram_strength: float = 1.0
    examples: int = 4
    seed: int = 0
    """Seeds every network's training (over `gan_train.seed` and `lm_train.seed`) and sampling; the split's seed is
    `rolls.seed`."""

    def gan_config(self) -> gan.GanConfig:
        return gan.GanConfig(pitches=self.rolls.pitches, steps=self.rolls.steps, z_dim=self.z_dim, width=self.width,
                             heads=self.heads)

    def lm_config(self, kind: baselines.Kind) -> baselines.LmConfig:
        return baselines.LmConfig(kind=kind, vocab_size=self.rolls.vocab_size, steps=self.rolls.steps, width=self.width,
                                  layers=self.lm_layers, heads=self.heads)


# --- The reference model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepNgram:
    """The PPL reference model (module docstring). `keys[k]`/`counts[k]`: sorted codes of (context of
    k tokens, next token) and their counts; `context_keys[k]`/`context_counts[k]`: the contexts'."""

    vocab_size: int
    order: int
    strength: float
    keys: tuple[NDArray[np.int64], ...]
    counts: tuple[NDArray[np.int64], ...]
    context_keys: tuple[NDArray[np.int64], ...]
    context_counts: tuple[NDArray[np.int64], ...]

    @classmethod
    def fit(cls, rolls: Tokens, *, vocab_size: int, order: int = 3, strength: float = 1.0) -> StepNgram:
        if order < 1 or not strength > 0 or not len(rolls):
            raise InputError("the reference model needs order ≥ 1, strength > 0 and at least one training roll")
        keys, counts, ckeys, ccounts = [], [], [], []
        for k in range(order):
            ctx, nxt = _contexts(rolls, k, vocab_size), np.asarray(rolls, dtype=np.int64)
            u, c = np.unique(ctx * vocab_size + nxt, return_counts=True)
            cu, cc = np.unique(ctx, return_counts=True)
            keys.append(u)
            counts.append(c)
            ckeys.append(cu)
            ccounts.append(cc)
        return cls(vocab_size, order, strength, tuple(keys), tuple(counts), tuple(ckeys), tuple(ccounts))

    def log_probs(self, rolls: Tokens) -> NDArray[np.float64]:
        """Natural log-probability of every step token given the ones before it in its roll: (N, T)."""
        t = np.atleast_2d(np.asarray(rolls, dtype=np.int64))
        if t.min(initial=0) < 0 or t.max(initial=0) >= self.vocab_size:
            raise InputError(f"tokens outside the reference model's {self.vocab_size}: it was fitted on another pitch range")
        p = np.full(t.shape, 1.0 / self.vocab_size)
        for k in range(self.order):
            ctx = _contexts(t, k, self.vocab_size)
            joint = _lookup(self.keys[k], self.counts[k], ctx * self.vocab_size + t)
            total = _lookup(self.context_keys[k], self.context_counts[k], ctx)
            p = (joint + self.strength * p) / (total + self.strength)
        out: NDArray[np.float64] = np.log(p)
        return out

    def perplexity(self, rolls: Tokens) -> float:
        return perplexity(self.log_probs(rolls).ravel())


def _contexts(rolls: Tokens, k: int, vocab_size: int) -> NDArray[np.int64]:
    """Code of the k tokens before each step (base vocab_size + 1, 0 before the roll's start): (N, T)."""
    t = np.asarray(rolls, dtype=np.int64) + 1
    code = np.zeros(t.shape, dtype=np.int64)
    for j in range(1, k + 1):
        shifted = np.zeros_like(t)
        shifted[:, j:] = t[:, :-j]
        code = code * (vocab_size + 1) + shifted
    return code


def _lookup(keys: NDArray[np.int64], counts: NDArray[np.int64], query: NDArray[np.int64]) -> NDArray[np.float64]:
    i = np.clip(np.searchsorted(keys, query), 0, len(keys) - 1)
    return np.where(keys[i] == query, counts[i], 0).astype(np.float64)


# --- Metrics ---------------------------------------------------------------------------------------


def row_metrics(tokens: Tokens, *, cfg: RollConfig, reference: StepNgram, training: set[bytes]) -> dict[str, float]:
    """The row's metrics (module docstring) over its rolls (N, T)."""
    roll, onsets, lenient = tokens_to_roll(tokens, pitches=cfg.pitches)
    clean = canonical(tokens, pitches=cfg.pitches)
    upc = [used_pitch_classes(r, steps_per_bar=STEPS_PER_BAR, lowest_pitch=cfg.lowest) for r in roll]
    gc = [groove_consistency(r, steps_per_bar=STEPS_PER_BAR, onsets=o) for r, o in zip(roll, onsets, strict=True)]
    ebr = [empty_beat_rate(r, steps_per_beat=STEPS_PER_BEAT) for r in roll]
    return {"ppl": reference.perplexity(clean), "upc": float(np.mean(upc)), "upc_sd": float(np.std(upc)),
            "gc": float(np.mean(gc)), "gc_sd": float(np.std(gc)), "ebr": float(np.mean(ebr)), "ebr_sd": float(np.std(ebr)),
            "notes_per_bar": float(onsets.sum() / (len(tokens) * cfg.steps / STEPS_PER_BAR)),
            "lenient_holds": lenient / tokens.size, "copies": float(np.mean([r.tobytes() in training for r in clean])),
            "rolls": float(len(tokens))}


# --- Model files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedModel:
    trained: gan.TrainedGan | baselines.TrainedLm
    split_id: str
    learned_from: tuple[str, ...]
    facts: Mapping[str, Any]


def save(path: Path, model: SavedModel) -> None:
    """Write a model file (module docstring). `facts` must be plain values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = model.trained
    nets = ({"generator": t.generator.state_dict(), "critic": t.critic.state_dict()} if isinstance(t, gan.TrainedGan)
            else {"net": t.net.state_dict()})
    torch.save({"format": FORMAT, "kind": "gan" if isinstance(t, gan.TrainedGan) else t.cfg.kind, "cfg": asdict(t.cfg),
                "split_id": model.split_id, "learned_from": sorted(model.learned_from), "facts": dict(model.facts),
                "train_seconds": t.train_seconds, **nets}, path)


def load(path: Path) -> SavedModel:
    """The model saved at `path`; InputError (saying how to make one) for a missing or foreign file."""
    d = read_saved(path, what="MIDI-GAN experiment model", formats=(FORMAT,), command=COMMAND)
    trained: gan.TrainedGan | baselines.TrainedLm
    if d["kind"] == "gan":
        cfg = gan.GanConfig(**{**d["cfg"], "scales": tuple(d["cfg"]["scales"])})
        g, c = gan.Generator(cfg), gan.Critic(cfg)
        g.load_state_dict(d["generator"])
        c.load_state_dict(d["critic"])
        g.eval()
        c.eval()
        f = d["facts"]
        trained = gan.TrainedGan(g, c, cfg, dict(f.get("history", {})), float(d["train_seconds"]), int(f.get("best_step", 0)),
                                 bool(f.get("stopped_early", False)))
    else:
        lm = baselines.LmConfig(**d["cfg"])
        net = baselines.build(lm)
        net.load_state_dict(d["net"])
        net.eval()
        f = d["facts"]
        trained = baselines.TrainedLm(net, lm, tuple(f.get("losses", ())), tuple(f.get("val_losses", ())),
                                      int(f.get("best_epoch", 0)), float(d["train_seconds"]))
    return SavedModel(trained, str(d["split_id"]), tuple(d["learned_from"]), dict(d["facts"]))


def _facts(t: gan.TrainedGan | baselines.TrainedLm) -> dict[str, Any]:
    if isinstance(t, gan.TrainedGan):
        return {"history": t.history, "generator_parameters": sum(p.numel() for p in t.generator.parameters()),
                "best_step": t.best_step, "stopped_early": t.stopped_early}
    return {"losses": list(t.losses), "val_losses": list(t.val_losses), "best_epoch": t.best_epoch,
            "val_perplexity": float(np.exp(min(t.val_losses))) if t.val_losses else None}


# --- Running ---------------------------------------------------------------------------------------


@contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one intra-op thread inside (module docstring), the previous setting restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_models(rolls: Rolls, cfg: MidiganConfig, *, say: Progress | None = None,
                 save_dir: Path | None = None) -> dict[str, SavedModel]:
    """Train the GAN and both baselines on the training rolls (saved under save_dir when given)."""
    with one_thread():
        return _train_models(rolls, cfg, tell=say or (lambda stage, done, total: None), save_dir=save_dir)


def _train_models(rolls: Rolls, cfg: MidiganConfig, *, tell: Progress, save_dir: Path | None) -> dict[str, SavedModel]:
    out: dict[str, SavedModel] = {}
    for name in MODELS:
        stage = f"training the {name if name != 'gan' else 'GAN'}"
        tell(stage, 0, 1)
        trained: gan.TrainedGan | baselines.TrainedLm
        if name == "gan":
            trained = gan.train(channels(rolls.train, pitches=rolls.cfg.pitches), cfg.gan_config(),
                                replace(cfg.gan_train, seed=cfg.seed), progress=_stage(tell, stage),
                                validation=gan_validation(rolls, cfg))
        else:
            kind: baselines.Kind = "lstm" if name == "lstm" else "transformer"
            trained = baselines.train(rolls.train, rolls.validation, cfg.lm_config(kind), replace(cfg.lm_train, seed=cfg.seed),
                                      progress=_stage(tell, stage))
        out[name] = SavedModel(trained, rolls.split_id, rolls.learned_from, _facts(trained))
        if save_dir is not None:
            save(save_dir / MODEL_FILES[name], out[name])
    return out


JUDGED = ("ppl", "upc", "gc", "ebr")
"""The row metrics the GAN's validation score compares with the validation rolls' own."""


def distance(row: Mapping[str, float], target: Mapping[str, float]) -> float:
    """A row's distance to real rolls' own values: mean of the relative gaps in PPL, UPC and GC and the
    absolute gap in EBR (near 0 in these songs). The GAN's validation score; in the report, each row's
    distance to the held-out test rolls."""
    parts = [abs(row[k] - target[k]) / max(target[k], 1e-9) for k in ("ppl", "upc", "gc")] + [abs(row["ebr"] - target["ebr"])]
    return float(np.mean(parts))


def reference_model(rolls: Rolls, cfg: MidiganConfig) -> StepNgram:
    """The PPL reference model: the step n-gram of the training rolls (module docstring)."""
    return StepNgram.fit(rolls.train, vocab_size=cfg.rolls.vocab_size, order=cfg.ngram_order, strength=cfg.ngram_strength)


def gan_validation(rolls: Rolls, cfg: MidiganConfig) -> gan.Validation:
    """The GAN's check: `cfg.samples` rolls drawn with a fixed noise seed, measured as a report row, and
    scored by their mean distance to the validation rolls' own values — relative for PPL, UPC and GC,
    absolute for EBR (near 0 in these songs) — so lower is closer to real held-out music."""
    reference = reference_model(rolls, cfg)
    target = row_metrics(rolls.validation, cfg=cfg.rolls, reference=reference, training=set())

    def measure(generator: gan.Generator) -> dict[str, float]:
        m = row_metrics(gan.sample(generator, cfg.samples, seed=cfg.seed + 2), cfg=cfg.rolls, reference=reference, training=set())
        return {**{k: m[k] for k in JUDGED}, "score": distance(m, target)}

    return gan.Validation(measure, every=cfg.validate_every, patience=cfg.patience)


def _stage(tell: Progress, stage: str) -> Callable[[int, int], None]:
    return lambda done, total: tell(stage, done, total)


def sample_model(model: SavedModel, n: int, *, seed: int) -> Tokens:
    """n rolls (n, T) from the model, on one thread."""
    t = model.trained
    with one_thread():
        if isinstance(t, gan.TrainedGan):
            return gan.sample(t.generator, n, seed=seed)
        return baselines.sample(t.net, t.cfg, n, seed=seed)


def run(cfg: MidiganConfig, *, cache_dir: Path | None = None, say: Progress | None = None,
        source: Callable[[Piece], Source] | None = None, models: Mapping[str, SavedModel] | None = None,
        save_dir: Path | None = None) -> dict[str, Any]:
    """Prepare, train (or use `models`, which must come from the same split), sample and measure;
    returns the report (write it with `write_report`)."""
    tell = say or (lambda stage, done, total: None)
    with one_thread():
        tell("preparing the rolls", 0, 1)
        rolls = prepare(cfg.rolls, cache_dir=cache_dir, source=source)
        tell("preparing the rolls", 1, 1)
        if models is None:
            models = train_models(rolls, cfg, say=say, save_dir=save_dir)
        for name in MODELS:
            if name not in models:
                raise InputError(f"no {name} model given: train all three with `{COMMAND}`")
            t = models[name].trained
            vocab = t.cfg.pitches + FIRST_ONSET if isinstance(t, gan.TrainedGan) else t.cfg.vocab_size
            if vocab != cfg.rolls.vocab_size or t.cfg.steps != cfg.rolls.steps:
                raise InputError(f"the {name} model reads rolls of {t.cfg.steps} steps and {vocab} tokens, these have "
                                 f"{cfg.rolls.steps} and {cfg.rolls.vocab_size}: train it again with `{COMMAND}`")
            if models[name].split_id != rolls.split_id:
                raise InputError(f"the {name} model was trained on another split ({models[name].split_id[:12]}…, here "
                                 f"{rolls.split_id[:12]}…): train again with `{COMMAND}` on the same songs, protocols and seed")
        reference = reference_model(rolls, cfg)
        training = {r.tobytes() for r in rolls.train}
        samples: dict[str, Tokens] = {"reference": rolls.test}
        facts: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(MODELS):
            tell("sampling", i, len(MODELS))
            t0 = time.perf_counter()
            samples[name] = sample_model(models[name], cfg.samples, seed=cfg.seed + 1)
            t = models[name].trained
            facts[name] = {"parameters": t.n_params(), "train_seconds": t.train_seconds,
                           "sample_seconds": time.perf_counter() - t0, **models[name].facts}
        tell("sampling", len(MODELS), len(MODELS))
        results = {}
        for i, row in enumerate(ROWS):
            tell("measuring", i, len(ROWS))
            results[row] = row_metrics(samples[row], cfg=cfg.rolls, reference=reference, training=training)
        tell("measuring", len(ROWS), len(ROWS))
        for row in ROWS:
            results[row]["distance"] = distance(results[row], results["reference"])
        validation = row_metrics(rolls.validation, cfg=cfg.rolls, reference=reference, training=set())
    return {"config": asdict(cfg), "split_id": rolls.split_id, "data": rolls.summary, "protocols_checked": source is not None,
            "models": facts, "results": results, "paper": PAPER, "validation_rolls": {k: validation[k] for k in JUDGED},
            "examples": {row: _examples(samples[row], cfg.examples).tolist() for row in ROWS}}


def _examples(tokens: Tokens, k: int) -> Tokens:
    """k rolls spread evenly over the row (the test rolls come song by song: neighbours are one song)."""
    return tokens[np.unique(np.linspace(0, len(tokens) - 1, num=min(k, len(tokens))).round().astype(np.int64))]


# --- The report ------------------------------------------------------------------------------------

NAMES = {"reference": "reference (held-out real rolls)", "gan": "MIDI-GAN (WGAN-GP)", "lstm": "LSTM", "transformer": "Transformer"}


def write_report(report: Mapping[str, Any], out: Path) -> list[Path]:
    """midigan.json, midigan.md, midigan.png (example rolls per row) and midigan_curves.png (the GAN's
    validation checks) under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "midigan.json", out / "midigan.md", out / "midigan.png", out / "midigan_curves.png"]
    paths[0].write_text(json.dumps(report, indent=1, default=float))
    cfg, data, res = report["config"], report["data"], report["results"]
    rc, g = cfg["rolls"], cfg["gan_train"]
    lines = [
        "# MIDI-GAN against LSTM and Transformer baselines (issue 8)",
        "",
        f"Essen Han songs, {data['corpus']['pieces']} encoded on the lattice "
        + (f"({data['refused']} refused by their protocols)" if report["protocols_checked"]
           else "(protocols not consulted: run without `--no-protocols` to ask the chain)")
        + f", split by piece {data['songs']['train']}/{data['songs']['validation']}/{data['songs']['test']} songs "
        f"(split `{report['split_id'][:16]}…`, the lattice experiment's split). Rolls of {rc['steps']} sixteenth-note steps "
        f"(5 bars of 16 steps), MIDI {rc['lowest']}–{rc['highest']} with each song's K: tonic moved to C: "
        f"{data['rolls']['train']} training rolls (a window every {rc['hop']} steps), {data['rolls']['validation']} validation "
        f"and {data['rolls']['test']} test rolls (not overlapping); {data['too_short']} songs shorter than a roll give none; "
        f"{data['quantised']} of {data['notes']} notes were off the sixteenth grid (rounded), {data['lost']} lost to a note "
        f"on the same step, {data['folded']} folded into the range. Definitions: `ml/generation/midigan/` (each module's "
        "docstring).",
        "",
        "| model | parameters | training | training time | sampling time |",
        "|---|---|---|---|---|",
    ]
    for name in MODELS:
        m = report["models"][name]
        if name == "gan":
            ran = int(max(m["history"].get("step", [0]) + m["history"].get("val_step", [0])))
            kept = (f", kept step {m['best_step']} (its best validation check"
                    + (f"; stopped after {cfg['patience']} checks without a better one)" if m.get("stopped_early") else ")")
                    if m.get("best_step") else "")
            how = (f"{ran} of at most {g['steps']} generator steps × {g['n_critic']} critic steps, batch {g['batch_size']}, "
                   f"λ_GP {g['gp_weight']:g}, μ_sim {g['sim_weight']:g}{kept} (generator {m['generator_parameters']:,} parameters)")
        else:
            how = (f"{len(m['losses'])} epoch(s), best {m['best_epoch']}, validation PPL {m['val_perplexity']:.3f} per step")
        lines.append(f"| {NAMES[name]} | {m['parameters']:,} | {how} | {m['train_seconds']:.0f} s | "
                     f"{m['sample_seconds']:.2f} s for {cfg['samples']} rolls |")
    lines += ["", f"## Results ({cfg['samples']} samples per model; the reference row is the {int(res['reference']['rolls'])} "
              "test rolls)", "",
              "| row | PPL (reference trigram) | UPC | GC | EBR | distance to the reference row | notes per bar | HOLD after silence | "
              "copies of a training roll |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in ROWS:
        r = res[row]
        lines.append(f"| {NAMES[row]} | {r['ppl']:.3f} | {r['upc']:.2f} ± {r['upc_sd']:.2f} | {r['gc']:.3f} ± {r['gc_sd']:.3f} | "
                     f"{r['ebr']:.3f} ± {r['ebr_sd']:.3f} | {r.get('distance', 0.0):.3f} | {r['notes_per_bar']:.2f} | "
                     f"{r['lenient_holds']:.2%} | "
                     f"{r['copies']:.1%} |")
    if "distance" in res["gan"]:
        verdict = "reaches" if res["gan"]["distance"] <= res["transformer"]["distance"] else "does not reach"
        lines += ["", f"Distance to the reference row (the GAN's validation score on the test rolls: mean relative gap in PPL, "
                      f"UPC and GC, absolute gap in EBR): the GAN {res['gan']['distance']:.3f}, the Transformer "
                      f"{res['transformer']['distance']:.3f}, the LSTM {res['lstm']['distance']:.3f} — the GAN **{verdict}** "
                      "its Transformer baseline."]
    if report["models"]["gan"]["history"].get("val_step"):
        lines += ["", "## The GAN's training curves", "",
                  f"Every {cfg['validate_every']} generator steps {cfg['samples']} rolls are drawn (fixed noise) and scored "
                  "against the validation rolls' own values (`gan_validation`); the best check's weights are kept.", "",
                  "![validation checks](midigan_curves.png)"]
    p = report["paper"]
    lines += ["", f"The seed study reports for its MIDI-GAN on Daur music PPL {p['ppl']}, UPC {p['upc']}, GC {p['gc']}, "
              f"EBR {p['ebr']}: its figures on its data and its reference model, quoted for orientation only — not ours, "
              "and not comparable row for row (these songs are monophonic and pentatonic, so UPC per bar is small).",
              "", "## Notes", "", *_notes(cfg)]
    paths[1].write_text("\n".join(lines) + "\n")
    _plot(report, paths[2])
    _plot_curves(report, paths[3])
    return paths


def _plot_curves(report: Mapping[str, Any], path: Path) -> None:
    """The GAN's validation checks: score, PPL, GC and UPC per step, beside the validation rolls' and the
    Transformer's values; the critic's Wasserstein estimate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, real = report["models"]["gan"]["history"], report.get("validation_rolls", {})
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
    steps = h.get("val_step", [])
    for ax, key, title in zip(axes[:4], ("score", "ppl", "gc", "upc"),
                              ("validation score (lower is closer)", "PPL", "GC", "UPC"), strict=True):
        ax.plot(steps, h.get(f"val_{key}", []), color="#4f9a6a", label="GAN")
        if key in real:
            ax.axhline(real[key], color="#888888", linestyle="--", label="validation rolls")
        if key in report["results"].get("transformer", {}):
            ax.axhline(report["results"]["transformer"][key], color="#d08c60", linestyle=":", label="Transformer (test)")
        best = report["models"]["gan"].get("best_step")
        if best:
            ax.axvline(best, color="#6a8caf", linewidth=0.8)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("generator step", fontsize=7)
    axes[1].legend(fontsize=6)
    axes[4].plot(h.get("step", []), h.get("wasserstein", []), color="#6a8caf")
    axes[4].set_title("critic's Wasserstein estimate", fontsize=8)
    axes[4].set_xlabel("generator step", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _notes(cfg: Mapping[str, Any]) -> list[str]:
    return [
        "- Closer to the reference row is better for every column; PPL below the reference row means more predictable "
        "than real held-out music (e.g. long held notes), not better.",
        f"- PPL: interpolated {cfg['ngram_order']}-gram over step tokens (REST, HOLD, onset of pitch p) fitted on the "
        f"training rolls, Dirichlet smoothing β = {cfg['ngram_strength']:g} at each order; per step, all rolls of a row "
        "pooled. UPC: distinct pitch classes per 16-step bar; GC: 1 − mean Hamming distance of consecutive bars' onset "
        "patterns / 16; EBR: share of 4-step beats with nothing sounding (`ml/metrics/pianoroll.py`).",
        "- GAN: multi-scale residual critic (step, beat, bar resolution, scores summed), gradient penalty on interpolates, "
        "Adam β = (0.5, 0.9); the generator's loss adds the attention similarity-matching term (KL between the real and "
        "generated batches' mean self-attention rows of step similarity; `gan.py`). Samples: argmax row per step, onset "
        "where its probability > 0.5 or the row changes.",
        "- Baselines: temperature 1, nothing masked; a HOLD with nothing sounding is read as a rest (its share is a column).",
        "- Trained on two shared CPU cores, one thread each, in the times above: small networks and short training; "
        "the figures compare models of one run, not the seed's.",
    ]


def _plot(report: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rc = report["config"]["rolls"]
    pitches = rc["highest"] - rc["lowest"] + 1
    k = max(1, max(len(report["examples"][r]) for r in ROWS))
    fig, axes = plt.subplots(len(ROWS), k, figsize=(3.2 * k, 1.9 * len(ROWS)), squeeze=False)
    for i, row in enumerate(ROWS):
        for j in range(k):
            ax = axes[i][j]
            ax.set_xticks(range(0, rc["steps"] + 1, STEPS_PER_BAR))
            ax.tick_params(labelsize=6)
            examples: Sequence[Sequence[int]] = report["examples"][row]
            if j < len(examples):
                tokens = np.asarray(examples[j], dtype=np.int64)
                roll, _, _ = tokens_to_roll(tokens, pitches=pitches)
                ax.imshow(roll[0].T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
                          extent=(0, rc["steps"], rc["lowest"] - 0.5, rc["highest"] + 0.5))
                starts = np.flatnonzero(tokens >= FIRST_ONSET)
                ax.scatter(starts + 0.5, rc["lowest"] + tokens[starts] - FIRST_ONSET, s=4, c="#d08c60")
            if j == 0:
                ax.set_ylabel(NAMES[row].split(" (")[0], fontsize=7)
    fig.suptitle("Example rolls (MIDI pitch over sixteenth-note steps; dots are onsets, bars every 16 steps)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
