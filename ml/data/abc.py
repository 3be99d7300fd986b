"""A fast reader for ABC tune collections (music21's bundled Essen, O'Neill's, Ryan's files).

music21 parses Essen at about 130 ms a tune; registering works needs only each tune's text and
its header fields, which this reads directly: T (title), O (origin: "China, Shaanxi, Yanchang"),
R (genre/region note: "Xiaodiao. ..."), M (metre), K (key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError


@dataclass(frozen=True)
class Tune:
    collection: str
    number: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.headers.get("T", f"{self.collection} #{self.number}")

    @property
    def origin(self) -> list[str]:
        return [part.strip() for part in self.headers.get("O", "").split(",") if part.strip()]

    @property
    def genre(self) -> str:
        return self.headers.get("R", "").split(".")[0].strip(" ]")


def read_collection(path: Path) -> Iterator[Tune]:
    """Split an ABC file into tunes (each starting at an `X:` line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ABC collection {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")  # as music21 reads them; the tests compare the two readers
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("X:") and current:
            yield _tune(path.stem, current)
            current = []
        if line.startswith("X:") or current:
            current.append(line)
    if current:
        yield _tune(path.stem, current)


def _tune(collection: str, lines: list[str]) -> Tune:
    headers: dict[str, str] = {}
    for line in lines:
        if len(line) > 1 and line[1] == ":" and line[0].isalpha() and line[0] not in headers:
            headers[line[0]] = line[2:].strip()
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return Tune(collection=collection, number=headers.get("X", "?"), text="\n".join(lines) + "\n", headers=headers)


def music21_corpus_dir() -> Path:
    """The corpus folder inside music21's wheel."""
    try:
        import music21
    except ImportError as exc:
        raise InputError("music21 is not installed: run scripts/setup") from exc
    return Path(music21.__file__).parent / "corpus"
