"""The folk-song corpora bundled in music21's wheel, as labelled pieces.

- Essen (`essenFolksong/`): 1,224 Chinese Han songs (han1, han2) with the province from the `O:`
  field ("China, Shaanxi, Zizhou") and the genre from `R:` ("Xiaodiao. Xin minge" → Xiaodiao;
  the four of the literature: Xiaodiao, Shange, Haozi, and Wuge where present), and European
  sets labelled by collection: German (altdeu, ballad, boehme, erk, fink, kinder, zuccal,
  folkHaydn), Lorraine (lot, dva), Luxembourg (lux), Irish (irl). The test and variant files are
  left out.
- O'Neill's Music of Ireland (1850) and Ryan's Mammoth Collection: Irish and Scottish dance
  tunes, the dance type from `R:` (reel, jig, hornpipe, slip jig, strathspey, …).

Read with the fast ABC reader (`ml.data.abc`), which needs no music21 parse: the whole set in
well under a second. A piece's identity is the CID of its ABC text, so the same tune printed
twice is one piece.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from core.cid import bytes_cid
from core.errors import InputError
from ml.data.abc import Tune, music21_corpus_dir, read_collection

ESSEN_TRADITIONS: dict[str, tuple[str, ...]] = {
    "Chinese Han": ("han1", "han2"),
    "German": ("altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "ballad40", "ballad50", "ballad60", "ballad70",
               "ballad80", "boehme10", "boehme20", "erk10", "erk20", "erk30", "fink0", "folkHaydn", "kinder0", "zuccal0"),
    "Lorraine": ("lot", "dva0"),
    "Luxembourg": ("lux",),
    "Irish": ("irl",),
}
HAN_GENRES = ("Xiaodiao", "Shange", "Haozi", "Wuge")
DANCES = {"reel": "reel", "jig": "jig", "double jig": "jig", "single jig": "jig", "slipjig": "slip jig", "slip jig": "slip jig",
          "hornpipe": "hornpipe", "strathspey": "strathspey", "clog": "hornpipe", "highland fling": "highland fling",
          "air": "air", "waltz": "waltz", "polka": "polka", "march": "march", "set dance": "set dance"}
PROVINCES = ("Anhui", "Fujian", "Gansu", "Guangdong", "Guangxi", "Guizhou", "Hebei", "Heilongjiang", "Henan", "Hubei", "Hunan",
             "Jiangsu", "Jiangxi", "Jilin", "Liaoning", "Nei Monggol", "Ningxia", "Qinghai", "Shaanxi", "Shandong", "Shanxi",
             "Sichuan", "Taiwan", "Xinjiang", "Xizang", "Yunnan", "Zhejiang")


@dataclass(frozen=True)
class Piece:
    """One tune with its labels; `source` (corpus/file) is what splits group by."""

    corpus: str  # essen | oneill1850 | ryan
    source: str  # the file it came from, e.g. essen/han1
    number: str  # its X: number there
    tradition: str
    title: str
    abc: str
    province: str | None = None
    genre: str | None = None
    dance: str | None = None

    @cached_property
    def cid(self) -> str:
        """CID of the ABC text: the piece's identity (content-addressed, as everything here)."""
        return str(bytes_cid(self.abc.encode("utf-8")))

    @property
    def piece_id(self) -> str:
        return f"{self.source}#{self.number}"


def essen(traditions: tuple[str, ...] | None = None) -> list[Piece]:
    """Essen pieces of the given traditions (all of ESSEN_TRADITIONS by default), in file order."""
    unknown = set(traditions or ()) - set(ESSEN_TRADITIONS)
    if unknown:
        raise InputError(f"unknown Essen tradition(s) {sorted(unknown)}; known: {', '.join(ESSEN_TRADITIONS)}")
    return [_essen_piece(tradition, name, tune) for tradition in traditions or tuple(ESSEN_TRADITIONS)
            for name in ESSEN_TRADITIONS[tradition] for tune in _read("essenFolksong", name)]


def oneill() -> list[Piece]:
    """O'Neill's Music of Ireland (1850), every tune of every file, with its dance type."""
    return [_dance_piece("oneill1850", f"oneill1850/{path.stem}", "Irish (O'Neill 1850)", tune)
            for path in _files("oneills1850") for tune in read_collection(path)]


def ryan() -> list[Piece]:
    """Ryan's Mammoth Collection (1883), one file a tune, with its dance type."""
    return [_dance_piece("ryan", f"ryan/{path.stem}", "Irish/Scottish (Ryan's Mammoth)", tune)
            for path in _files("ryansMammoth") for tune in read_collection(path)]


def _essen_piece(tradition: str, name: str, tune: Tune) -> Piece:
    province = genre = None
    if tradition == "Chinese Han":
        province = _province(tune.origin)
        genre = _han_genre(tune.headers.get("R", ""))
    return Piece("essen", f"essen/{name}", tune.number, tradition, tune.title, tune.text, province=province, genre=genre)


def _dance_piece(corpus: str, source: str, tradition: str, tune: Tune) -> Piece:
    raw = tune.headers.get("R", "").strip().lower()
    return Piece(corpus, source, tune.number, tradition, tune.title, tune.text, dance=DANCES.get(raw))


def _province(origin: list[str]) -> str | None:
    """The province from O: ("China, Shanxi Zuoquan" → Shanxi); None when it names none."""
    if len(origin) < 2:
        return None
    head = origin[1].strip()
    for p in PROVINCES:
        if re.match(rf"{p}\b", head):
            return p
    return None


def _han_genre(r_field: str) -> str | None:
    """The song genre from R: ("Xiaodiao. Xin minge]" → Xiaodiao); None outside the four."""
    first = re.split(r"[.,\]]", r_field, maxsplit=1)[0].strip()
    return first if first in HAN_GENRES else None


@lru_cache(maxsize=64)
def _read(folder: str, name: str) -> tuple[Tune, ...]:
    path = music21_corpus_dir() / folder / f"{name}.abc"
    if not path.exists():
        raise InputError(f"{path} is missing: music21's corpus is incomplete; reinstall music21 (scripts/setup)")
    return tuple(read_collection(path))


def _files(folder: str) -> Iterator[Path]:
    root = music21_corpus_dir() / folder
    files = sorted(root.glob("*.abc"))
    if not files:
        raise InputError(f"no ABC files in {root}: music21's corpus is incomplete; reinstall music21 (scripts/setup)")
    yield from files
