"""Audio of any score, played by FluidSynth with a General MIDI soundfont.

The score's notes (music21) are written to a MIDI file with mido, one instrument for every part:
per channel a pitch-bend range (RPN 0), the program, the reverb send (CC 91), chorus off (CC 93)
and a static pitch bend carrying the global detune plus the note's microtone (notes with different
microtonal inflections go to different channels, so a quarter-tone is played exactly). Then
`fluidsynth -F` renders it faster than real time (no audio driver), as 32-bit float WAV so nothing
is dithered: the same inputs give the same samples.

FluidSynth 2.3 quirks handled here: its default pitch-wheel modulator scales the bend range by
127/128 (12700 cents × sensitivity / 128), which the bend values compensate; it truncates each
voice's pitch to a whole cent, which a half-cent added to every bend turns into rounding: a detune
lands within ½ cent of the soundfont's own pitch moved by the request. Soundfonts are not
perfectly in tune themselves (FluidR3's flute is ~4 cents sharp, TimGM6mb's ~13): the detune is
relative to the soundfont, as a player tuning their instrument would be.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido  # type: ignore[import-untyped]
import numpy as np
import soundfile as sf  # type: ignore[import-untyped]
from numpy.typing import NDArray

from core.errors import InputError, ModelError
from ml.data.audio import add_noise, to_mono, trim_trailing_silence
from ml.data.scores import ScoreLike, as_score, note_events, tempo_map

INSTRUMENTS: dict[str, int] = {
    "piano": 0,
    "vibraphone": 11,
    "marimba": 12,
    "accordion": 21,
    "harmonica": 22,
    "acoustic guitar": 24,
    "violin": 40,
    "cello": 42,
    "harp": 46,
    "trumpet": 56,
    "oboe": 68,
    "clarinet": 71,
    "flute": 73,
    "pan flute": 75,
    "shakuhachi": 77,
    "ocarina": 79,
    "sitar": 104,
    "banjo": 105,
    "shamisen": 106,
    "koto": 107,
    "kalimba": 108,
    "bagpipe": 109,
    "fiddle": 110,
    "erhu": 110,  # GM has no erhu: the fiddle, a folk bowed string, is nearer its sound than the orchestral violin (40)
    "shanai": 111,
}
"""General MIDI programs (0-based) by instrument name, for `render(program=...)`."""

SOUNDFONT_DIRS: tuple[Path, ...] = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"), Path("/usr/share/soundfonts"))
"""Where Debian's soundfont packages install."""

SOUNDFONT_FAMILIES: dict[str, str] = {"fluidr3": "FluidR3", "musescore_general": "FluidR3", "timgm6mb": "TimGM6mb"}
"""Known GM soundfonts by file-name prefix (lower case) → family. MuseScore General is derived from FluidR3."""

SOUNDFONT_PACKAGES = "`apt-get install fluid-soundfont-gm` (FluidR3_GM.sf2) or `apt-get install timgm6mb-soundfont` (TimGM6mb.sf2)"

GAIN = 1.0
"""FluidSynth master gain: a solo melody peaks near 0.3 full scale."""

TAIL_SECONDS = 2.0
"""Time left after the last note-off for release and reverb; trailing silence is trimmed afterwards."""

MAX_TUNING_CENTS = 2400.0
_PPQ = 480
CHANNELS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15)  # channel 9 (GM drums) left out
FLUIDSYNTH_BEND_SCALE = 127 / 128  # FluidSynth: 12700 cents × sensitivity / 128 at full bend
FLUIDSYNTH_TRUNCATION_BIAS = 0.5  # cents: FluidSynth floors a voice's pitch to a whole cent; +½ makes that a rounding


@dataclass(frozen=True)
class SoundFont:
    """An installed General MIDI soundfont and the family its samples come from."""

    path: Path
    family: str

    @property
    def name(self) -> str:
        return self.path.name


def soundfonts(*, directories: Sequence[Path] = SOUNDFONT_DIRS) -> list[SoundFont]:
    """The installed GM soundfonts of known families, by file (aliases such as default-GM.sf2 resolved).

    Families: FluidR3 (FluidR3_GM.sf2, FluidR3Mono_GM.sf3, MuseScore_General*.sf3) and TimGM6mb
    (TimGM6mb.sf2): train on one family and test on the other to measure timbre generalisation.
    """
    found: dict[Path, SoundFont] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir()):
            real = entry.resolve()
            if real.suffix.lower() not in (".sf2", ".sf3") or not real.is_file() or real in found:
                continue
            family = next((f for prefix, f in SOUNDFONT_FAMILIES.items() if real.name.lower().startswith(prefix)), None)
            if family is not None:
                found[real] = SoundFont(path=real, family=family)
    return sorted(found.values(), key=lambda s: (s.family, s.name))


def both_families(purpose: str) -> dict[str, SoundFont]:
    """The first installed soundfont of each family, for work that trains on one family and tests on
    the other (the first: FluidR3_GM.sf2 renders ~10× faster than MuseScore's .sf3). InputError,
    naming `purpose` and the packages, when FluidR3 or TimGM6mb is missing."""
    fonts: dict[str, SoundFont] = {}
    for f in soundfonts():
        fonts.setdefault(f.family, f)
    if not {"FluidR3", "TimGM6mb"} <= set(fonts):
        raise InputError(f"{purpose} needs both soundfont families: apt-get install fluid-soundfont-gm timgm6mb-soundfont")
    return fonts


def program_number(program: int | str) -> int:
    """A GM program 0–127 from a number or an instrument name in INSTRUMENTS (case-insensitive)."""
    if isinstance(program, str):
        number = INSTRUMENTS.get(program.strip().lower())
        if number is None:
            raise InputError(
                f"unknown instrument {program!r}: use a GM program number 0–127 or one of {', '.join(sorted(INSTRUMENTS))}"
            )
        return number
    if not 0 <= program <= 127:
        raise InputError(f"GM program must be 0–127, got {program}")
    return program


def write_midi(
    score: ScoreLike,
    path: Path,
    *,
    program: int | str,
    tempo_bpm: float | None = None,
    tuning_cents: float = 0.0,
    reverb: float = 0.0,
) -> None:
    """Write the score as a type-0 MIDI file for FluidSynth (see the module docstring).

    tempo_bpm: quarter notes per minute for the whole piece; None keeps the score's metronome
    marks (120 where unmarked). tuning_cents: global detune, ±MAX_TUNING_CENTS. reverb: 0–1, sent
    as CC 91 = round(127 · reverb).
    """
    number = program_number(program)
    if not abs(tuning_cents) <= MAX_TUNING_CENTS:
        raise InputError(f"tuning_cents must be within ±{MAX_TUNING_CENTS:.0f}, got {tuning_cents}")
    if not 0.0 <= reverb <= 1.0:
        raise InputError(f"reverb must be between 0 and 1, got {reverb}")
    if tempo_bpm is not None and not 1.0 <= tempo_bpm <= 1000.0:
        raise InputError(f"tempo_bpm must be 1–1000 quarter notes per minute, got {tempo_bpm}")
    parsed = as_score(score)
    notes = note_events(parsed)
    if not notes:
        raise InputError("the score has no sounding notes (only rests, grace notes or percussion): nothing to render")
    tempi = [(0.0, tempo_bpm)] if tempo_bpm is not None else tempo_map(parsed)

    keys = [math.ceil(n.pitch - 0.5) for n in notes]  # a pitch halfway between keys is the lower key bent up
    detunes = [round(tuning_cents + 100 * (n.pitch - k), 1) for n, k in zip(notes, keys, strict=True)]
    if any(not 0 <= k <= 127 for k in keys):
        raise InputError("the score has notes outside the MIDI range C-1–G9: transpose it (music21 Stream.transpose)")
    channel_of = {d: c for d, c in zip(dict.fromkeys(detunes), CHANNELS, strict=False)}
    if len(channel_of) < len(set(detunes)):
        raise InputError(
            f"the score uses {len(set(detunes))} distinct microtonal inflections; at most {len(CHANNELS)} can be rendered"
        )
    sensitivity = max(2, math.floor((max(abs(d) for d in channel_of) + 1) / FLUIDSYNTH_BEND_SCALE / 100) + 1)

    timed: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []  # (tick, order at that tick, message)
    timed += [(_tick(start), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for start, bpm in tempi]
    for detune, channel in channel_of.items():
        cents = detune + FLUIDSYNTH_TRUNCATION_BIAS
        bend = min(8191, max(-8192, round(cents / FLUIDSYNTH_BEND_SCALE / (100 * sensitivity) * 8192)))
        setup = [(101, 0), (100, 0), (6, sensitivity), (38, 0), (101, 127), (100, 127), (91, round(127 * reverb)), (93, 0)]
        timed += [(0, 0, mido.Message("control_change", channel=channel, control=cc, value=v)) for cc, v in setup]
        timed.append((0, 0, mido.Message("program_change", channel=channel, program=number)))
        timed.append((0, 0, mido.Message("pitchwheel", channel=channel, pitch=bend)))
    for n, key, detune in zip(notes, keys, detunes, strict=True):
        channel = channel_of[detune]
        timed.append((_tick(n.onset), 2, mido.Message("note_on", channel=channel, note=key, velocity=n.velocity)))
        timed.append((_tick(n.onset + n.duration), 1, mido.Message("note_off", channel=channel, note=key, velocity=0)))
    end = max(n.onset + n.duration for n in notes) + TAIL_SECONDS * tempi[-1][1] / 60
    timed.append((_tick(end), 3, mido.MetaMessage("end_of_track")))

    save_timed(timed, path, ticks_per_beat=_PPQ)


def save_timed(timed: Sequence[tuple[int, int, Any]], path: Path, *, ticks_per_beat: int) -> None:
    """Write (absolute tick, order at that tick, mido message) events as a one-track MIDI file, in
    time order (ties broken by `order`), each message's delta time from the one before."""
    track = mido.MidiTrack()
    now = 0
    for tick, _order, message in sorted(timed, key=lambda t: (t[0], t[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    midi.save(path)


def render(
    score: ScoreLike,
    *,
    program: int | str,
    soundfont: Path,
    tempo_bpm: float | None = None,
    tuning_cents: float = 0.0,
    reverb: float = 0.0,
    noise_db: float | None = None,
    sample_rate: int = 22050,
    seed: int = 0,
) -> NDArray[np.float32]:
    """Render a score to audio with FluidSynth.

    score: a music21 stream, ABC text, or the path of a MIDI/MusicXML/ABC/kern file.
    program: GM program 0–127 or an instrument name (INSTRUMENTS), used for every part.
    soundfont: a GM .sf2/.sf3 file (`soundfonts()` lists the installed ones).
    tempo_bpm: quarter notes per minute; None keeps the score's marks (120 where unmarked).
    tuning_cents: global detune in cents (±2400), by pitch bend; exact to ½ cent.
    reverb: 0 turns FluidSynth's reverb off; 0 < reverb ≤ 1 turns it on with CC 91 = round(127 · reverb).
    noise_db: if given, white noise is added at this signal-to-noise ratio in dB (seeded by seed).
    sample_rate: Hz, 8000–96000.

    Returns y of shape (n,), float32, mono (the stereo output averaged), at sample_rate Hz, from
    the first beat to the end of the last note's release (trailing silence trimmed). Level: FluidSynth
    gain GAIN, not normalised; a dense score may exceed ±1. Deterministic.

    Raises InputError for a bad score or argument, a missing fluidsynth binary or soundfont;
    ModelError if FluidSynth fails or renders silence.
    """
    if noise_db is not None and not math.isfinite(noise_db):
        raise InputError(f"noise_db must be a finite SNR in dB or None, got {noise_db}")
    with tempfile.TemporaryDirectory(prefix="heritage-render-") as tmp:
        midi_path = Path(tmp) / "score.mid"
        write_midi(score, midi_path, program=program, tempo_bpm=tempo_bpm, tuning_cents=tuning_cents, reverb=reverb)
        y = render_midi_file(midi_path, soundfont=soundfont, reverb=reverb, sample_rate=sample_rate, what=f"program {program}")
    return y if noise_db is None else add_noise(y, snr_db=noise_db, seed=seed)


def render_midi_file(midi_path: Path, *, soundfont: Path, reverb: float = 0.0, sample_rate: int = 22050,
                     what: str = "the file") -> NDArray[np.float32]:
    """Play a MIDI file through FluidSynth with `soundfont`: y of shape (n,), float32 mono (the stereo
    output averaged) at sample_rate Hz (8000–96000), trailing silence trimmed, gain GAIN, not
    normalised. Reverb on when reverb > 0 (the file's CC 91 sets its level). `what` names the
    preset in an error. Raises InputError for a missing fluidsynth binary or soundfont or a bad
    rate; ModelError if FluidSynth fails, times out or renders silence."""
    if not 8000 <= sample_rate <= 96000:
        raise InputError(f"sample_rate must be 8000–96000 Hz for FluidSynth, got {sample_rate}")
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        raise InputError("FluidSynth is not installed (no `fluidsynth` on PATH): run `apt-get install fluidsynth`")
    check_soundfont(soundfont)
    with tempfile.TemporaryDirectory(prefix="heritage-fluidsynth-") as tmp:
        wav_path = Path(tmp) / "out.wav"
        command = [
            fluidsynth, "-n", "-i", "-q", "-f", "/dev/null",  # no MIDI input, no shell, no user config file
            "-C", "0", "-R", "1" if reverb > 0 else "0", "-g", str(GAIN), "-r", str(sample_rate),
            "-o", "synth.dynamic-sample-loading=1", "-o", "synth.cpu-cores=1",
            "-O", "float", "-T", "wav", "-F", str(wav_path), str(soundfont), str(midi_path),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ModelError("FluidSynth did not finish within 600 s: render a shorter piece") from exc
        if done.returncode != 0 or not wav_path.is_file():
            raise ModelError(f"FluidSynth failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        data, rate = sf.read(wav_path, dtype="float32", always_2d=True)
    if rate != sample_rate:
        raise ModelError(f"FluidSynth wrote {rate} Hz instead of {sample_rate} Hz: check the fluidsynth version (2.x needed)")
    y = trim_trailing_silence(to_mono(data))
    if y.size == 0:
        raise ModelError(
            f"FluidSynth rendered silence with {soundfont.name}, {what}: "
            f"the soundfont may lack that preset; FluidSynth said: {done.stderr.strip()[-300:] or 'nothing'}"
        )
    return y


def _tick(quarters: float) -> int:
    return round(quarters * _PPQ)


def check_soundfont(soundfont: Path) -> None:
    """InputError unless `soundfont` is a SoundFont file (RIFF sfbk), saying how to get one."""
    if not soundfont.is_file():
        raise InputError(f"soundfont {soundfont} not found: install one with {SOUNDFONT_PACKAGES}, or pick one from soundfonts()")
    with soundfont.open("rb") as f:
        header = f.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise InputError(f"{soundfont} is not a SoundFont (.sf2/.sf3 RIFF sfbk file): pick one from soundfonts()")
