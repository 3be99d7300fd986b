"""One report file written by several commands, each owning one top-level section (`# …`): e.g.
reports/tuning.md holds the economy's front and the generator's, each rewritten by its own command."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, text: str) -> None:
    """Write `text` (starting with its `# ` heading line) into `path` in place of the section with the
    same heading, or after the others when there is none; the other sections are kept as they are."""
    heading = text.split("\n", 1)[0]
    sections: list[str] = []
    if path.is_file():
        for line in path.read_text().splitlines(keepends=True):
            if line.startswith("# ") or not sections:
                sections.append("")
            sections[-1] += line
    own = [i for i, s in enumerate(sections) if s.split("\n", 1)[0] == heading]
    body = text.rstrip("\n") + "\n\n"
    if own:
        sections[own[0]] = body
    else:
        sections.append(body)
    path.write_text("".join(s.rstrip("\n") + "\n\n" for s in sections if s.strip()).rstrip("\n") + "\n")
