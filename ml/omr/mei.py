"""Reading verovio's engraving back: the tokens (`ml.omr.data`'s grammar) a reader of the engraved
staff sees, from verovio's MEI. `ml.omr.data.render_lines` checks every engraved line with it: a
line whose MEI reads differently from its tokens is not used."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ml.omr.tokens import ALTER_TEXT, DOTS, key_alter, key_token

_TYPE_OF_MEI_DUR = {"breve": "breve", "1": "whole", "2": "half", "4": "quarter", "8": "eighth", "16": "16th", "32": "32nd",
                    "64": "64th"}
_MEI_ACCID_ALTER = {"s": 1, "f": -1, "n": 0, "x": 2, "ss": 2, "ff": -2}
_MEI_OCTAVE = {(None, None): "", ("8", "below"): "-8vb", ("8", "above"): "-8va"}
_MEI_RIGHT = {"single": "bar", "dbl": "bar-double", "end": "bar-final", "rptend": "bar-repeat-end", "rptboth": "bar-repeat-both"}
_MEI = "{http://www.music-encoding.org/ns/mei}"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def read_mei(mei: str) -> list[str]:
    """The tokens a reader of verovio's engraving sees, from its MEI: the clef, key and metre
    printed, each note's pitch from its printed accidental, else the bar's earlier accidental on
    that step and octave, else the key signature (a tied-to note keeps its pitch), durations,
    ties, tuplet numbers and barlines. Anything else engraved (slurs, articulations, text, grace
    notes, chords…) reads as `?<element>`, which no token sequence contains."""
    return _MeiReader(ET.fromstring(mei)).read()


class _MeiReader:
    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.out: list[str] = []
        self.sharps = 0
        self.started = False  # a bar has been read
        self.pitches: dict[str, str] = {}  # note xml:id → pitch name read
        self.tie_starts: set[str] = set()
        self.tied_to: dict[str, str] = {}  # tie end note → its start note
        for t in root.iter(_MEI + "tie"):
            start, end = t.get("startid", "").lstrip("#"), t.get("endid", "").lstrip("#")
            self.tie_starts.add(start)
            if end:
                self.tied_to[end] = start

    def read(self) -> list[str]:
        score = self.root.find(f".//{_MEI}score")
        if score is None:
            return ["?score"]
        self.walk(score)
        return self.out

    def walk(self, node: ET.Element) -> None:
        for el in node:
            tag = el.tag.removeprefix(_MEI)
            if tag == "scoreDef":
                self.signatures(el)
            elif tag == "section":
                self.walk(el)
            elif tag == "measure":
                self.measure(el)
            elif tag not in ("expansion", "sb", "pb"):
                self.out.append(f"?{tag}")

    def signatures(self, node: ET.Element) -> None:
        for el in node.iter():
            tag = el.tag.removeprefix(_MEI)
            if tag == "clef":
                octave = _MEI_OCTAVE.get((el.get("dis"), el.get("dis.place")), "?")
                self.out.append(f"clef-{el.get('shape')}{el.get('line')}{octave}" if not self.started else "?clef-change")
            elif tag == "keySig":
                sig = el.get("sig", "0")
                self.sharps = 0 if sig == "0" else int(sig[:-1]) * (1 if sig[-1] == "s" else -1)
                if self.sharps or self.started:
                    self.out.append(key_token(self.sharps))
            elif tag == "meterSig" and el.get("visible") != "false":
                sym = el.get("sym")
                self.out.append({"common": "time-C", "cut": "time-C|"}.get(sym or "", f"time-{el.get('count')}/{el.get('unit')}"))

    def measure(self, el: ET.Element) -> None:
        if el.get("left") == "rptstart":
            if self.started and self.out[-1] == "bar-repeat-end":
                self.out[-1] = "bar-repeat-both"
            else:
                self.out.append("bar-repeat-start")
        elif el.get("left") not in (None, "single", "invis"):
            self.out.append(f"?left-{el.get('left')}")
        self.started = True
        for child in el:
            tag = child.tag.removeprefix(_MEI)
            if tag == "staff":
                for layer in child:
                    self.layer(layer, {})
            elif tag != "tie":
                self.out.append(f"?{tag}")  # slur, dir, harm, fermata, …
        self.out.append(_MEI_RIGHT.get(el.get("right", "single"), f"?right-{el.get('right')}"))

    def layer(self, node: ET.Element, carried: dict[tuple[str, str], int]) -> None:
        """Read a layer (or a beam or tuplet in it); `carried`: the bar's accidentals so far."""
        for el in node:
            tag = el.tag.removeprefix(_MEI)
            if tag == "beam":
                self.layer(el, carried)
            elif tag in ("space", "mSpace"):
                continue  # verovio fills an incomplete bar (upbeat, last bar) with invisible space
            elif tag == "tuplet":
                self.out.append(f"tuplet-{el.get('num')}" if el.get("num.visible") != "false" else "?tuplet-without-number")
                self.layer(el, carried)
            elif tag in ("note", "rest") and el.get("grace") is None:
                self.note(el, tag, carried)
            else:
                self.out.append(f"?{tag}")

    def note(self, el: ET.Element, tag: str, carried: dict[tuple[str, str], int]) -> None:
        dots = int(el.get("dots", "0"))
        kind = _TYPE_OF_MEI_DUR.get(el.get("dur", ""), "?") + (DOTS[dots] if dots < len(DOTS) else "-?dots")
        extra = [c.tag.removeprefix(_MEI) for c in el if c.tag != _MEI + "accid"]
        self.out.extend(f"?{t}" for t in extra)  # articulations, lyrics, …
        if tag == "rest":
            self.out.append(f"rest-{kind}")
            return
        ident = el.get(_XML_ID, "")
        if self.tied_to.get(ident) in self.pitches:
            name = self.pitches[self.tied_to[ident]]
        else:
            step, octave = el.get("pname", "?").upper(), el.get("oct", "?")
            accid = el.get("accid") or next((a.get("accid") for a in el.iter(_MEI + "accid") if a.get("accid")), None)
            if accid is not None:
                carried[(step, octave)] = _MEI_ACCID_ALTER.get(accid, 9)
            alter = carried.get((step, octave), key_alter(self.sharps, step))
            name = f"{step}{ALTER_TEXT.get(alter, '?')}{octave}"
        self.pitches[ident] = name
        self.out.append(f"note-{name}-{kind}")
        if ident in self.tie_starts:
            self.out.append("tie")
