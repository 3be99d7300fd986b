"""Metrics for generated music: fidelity to a tradition and the piano-roll family.

- `fidelity`: modal error in cents (from symbols and from audio), rhythm DTW to a corpus, ornament
  KL, structural edit distance, perplexity from a reference model's log-probabilities.
- `pianoroll`: UPC, GC and EBR as defined by MuseGAN / MusPy.
- `pitch`: the pitch tracker the audio metrics use (pYIN with YIN refinement); its noise floor is
  measured by benchmarks/pitch_noise_floor.py.

Each module's docstring gives the exact definitions; reports should quote them.
"""

from ml.metrics.fidelity import (
    ModalError,
    edit_distance,
    inter_onset_intervals,
    kl_divergence,
    modal_error_audio,
    modal_error_symbols,
    ornament_counts,
    ornament_kl,
    pattern_labels,
    perplexity,
    rhythm_dtw,
    rhythm_dtw_to_corpus,
    structural_distance,
)
from ml.metrics.pianoroll import empty_beat_rate, groove_consistency, used_pitch_classes
from ml.metrics.pitch import PitchTrack, TrackedNote, note_pitches, track_pitch

__all__ = [
    "ModalError",
    "PitchTrack",
    "TrackedNote",
    "edit_distance",
    "empty_beat_rate",
    "groove_consistency",
    "inter_onset_intervals",
    "kl_divergence",
    "modal_error_audio",
    "modal_error_symbols",
    "note_pitches",
    "ornament_counts",
    "ornament_kl",
    "pattern_labels",
    "perplexity",
    "rhythm_dtw",
    "rhythm_dtw_to_corpus",
    "structural_distance",
    "track_pitch",
    "used_pitch_classes",
]
