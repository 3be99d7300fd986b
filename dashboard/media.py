"""What stored content is, from its first bytes when the API's media type does not say.

The API serves content under the media type its manifest records, which is
`application/octet-stream` for derivatives and for uploads without one, so the dashboard
looks at the bytes themselves to decide between playing, showing and offering a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Presentation = Literal["audio", "score", "download"]


@dataclass(frozen=True)
class MediaKind:
    """A media type, how the dashboard presents it, and a file extension for downloads."""

    media_type: str
    presentation: Presentation
    extension: str


_SIGNATURES: tuple[tuple[bytes, int, MediaKind], ...] = (
    (b"WAVE", 8, MediaKind("audio/wav", "audio", ".wav")),
    (b"OggS", 0, MediaKind("audio/ogg", "audio", ".ogg")),
    (b"fLaC", 0, MediaKind("audio/flac", "audio", ".flac")),
    (b"ID3", 0, MediaKind("audio/mpeg", "audio", ".mp3")),
    (b"\xff\xfb", 0, MediaKind("audio/mpeg", "audio", ".mp3")),
    (b"MThd", 0, MediaKind("audio/midi", "download", ".mid")),
    (b"X:", 0, MediaKind("text/vnd.abc", "score", ".abc")),
    (b"**kern", 0, MediaKind("text/x-kern", "score", ".krn")),
)
_KNOWN = {
    "audio/midi": MediaKind("audio/midi", "download", ".mid"),
    "audio/x-midi": MediaKind("audio/midi", "download", ".mid"),
    "text/vnd.abc": MediaKind("text/vnd.abc", "score", ".abc"),
    "application/vnd.recordare.musicxml+xml": MediaKind("application/vnd.recordare.musicxml+xml", "score", ".musicxml"),
    "application/json": MediaKind("application/json", "score", ".json"),
}
_EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/flac": ".flac"}


def classify(data: bytes, media_type: str) -> MediaKind:
    """How to present `data`, served as `media_type`: audio plays in the browser (MIDI does not),
    a text score is shown as text, anything else is offered as a download."""
    declared = media_type.split(";")[0].strip().lower()
    if declared in _KNOWN:
        return _KNOWN[declared]
    if declared.startswith("audio/"):
        return MediaKind(declared, "audio", _EXTENSIONS.get(declared, ".audio"))
    head = data[:16]
    for magic, at, kind in _SIGNATURES:
        if head[at: at + len(magic)] == magic:
            return kind
    text = data[:512].lstrip()
    if text.startswith(b"<?xml") and b"score-partwise" in data[:4096]:
        return _KNOWN["application/vnd.recordare.musicxml+xml"]
    if declared.startswith("text/"):
        return MediaKind(declared, "score", ".txt")
    return MediaKind(declared or "application/octet-stream", "download", ".bin")
