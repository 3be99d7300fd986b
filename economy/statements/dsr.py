"""A usage statement as a DSR-shaped flat file: one header line, then one usage line each.

Columns (header names exactly, in this order; tab-separated, or comma-separated when the header
has no tab): `period_start period_end service territory work usage_type count amount_wei`.
Periods are ISO dates (UTC; the end date is inclusive), the same for every line; `work` is a
work id (digits) or a content CID (base32 CIDv1); `count` a whole number of uses; `amount_wei`
the line's amount in wei, at least 1. Fields are not quoted (DDEX flat files are not): a quote
character, a missing or extra field is an error. Line numbers are the file's (the header is line
1), and a line's hash is keccak256 of its bytes without the line ending.

Every problem raises a `StatementFormatError` subclass naming the line; a file with any invalid
line is refused whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from eth_utils.crypto import keccak

from core.cid import from_text
from core.errors import InputError
from core.types import Wei

COLUMNS = ("period_start", "period_end", "service", "territory", "work", "usage_type", "count", "amount_wei")
MAX_LINES = 5_000_000
"""Most usage lines one statement may have (the contract counts them in 32 bits)."""
MAX_FIELD = 200
"""Longest text field (service, territory, usage type), in characters."""
MAX_AMOUNT = 2**96
"""Largest amount of one line, wei (a statement's total must fit the contract's 128 bits)."""
DAY = 86_400


class StatementFormatError(InputError):
    """A usage file that cannot be settled; `line` is the file's line number (0: the whole file)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class StatementEmpty(StatementFormatError):
    """No usage lines."""


class StatementHeaderInvalid(StatementFormatError):
    """The first line is not the expected header."""


class StatementLineMalformed(StatementFormatError):
    """A line has the wrong number of fields, a quote, or a field that does not parse."""


class StatementPeriodMismatch(StatementFormatError):
    """A line's period differs from the first line's: one statement covers one period."""


class StatementTooLarge(StatementFormatError):
    """More than MAX_LINES lines."""


@dataclass(frozen=True, slots=True)
class WorkRef:
    """What a line names: a work id, or a content CID (binary). `identifier` is what the contract
    takes: the work id as 32 bytes big-endian, or the binary CID."""

    text: str
    work_id: int | None
    cid: bytes | None

    @property
    def identifier(self) -> bytes:
        if self.work_id is not None:
            return self.work_id.to_bytes(32, "big")
        assert self.cid is not None
        return self.cid


@dataclass(frozen=True, slots=True)
class UsageLine:
    number: int
    """The file's line number (the header is 1)."""
    service: str
    territory: str
    work: WorkRef
    usage_type: str
    count: int
    amount: Wei
    line_hash: bytes
    """keccak256 of the line's bytes without its line ending."""


@dataclass(frozen=True)
class UsageStatement:
    period_start: int
    """Unix seconds, 00:00 UTC of the first day."""
    period_end: int
    """Unix seconds, 23:59:59 UTC of the last day."""
    lines: tuple[UsageLine, ...]

    @property
    def total(self) -> Wei:
        return Wei(sum(line.amount for line in self.lines))

    def line(self, number: int) -> UsageLine:
        """The usage line at file line `number`; StatementFormatError when there is none."""
        index = number - 2
        if not 0 <= index < len(self.lines):
            raise StatementFormatError(number, f"no usage line here: usage lines run from 2 to {len(self.lines) + 1}")
        return self.lines[index]


def parse(data: bytes) -> UsageStatement:
    """Validate every line of a usage file and return it; the first problem raises its named error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StatementLineMalformed(data[: err.start].count(b"\n") + 1, "not UTF-8 text: save the file as UTF-8") from err
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    if not rows:
        raise StatementEmpty(0, "the file is empty: give a header line and at least one usage line")
    header = rows[0].rstrip("\r")
    sep = "\t" if "\t" in header else ","
    if tuple(h.strip() for h in header.split(sep)) != COLUMNS:
        raise StatementHeaderInvalid(1, f"the header must be {sep.join(COLUMNS)!r} (tab- or comma-separated), not "
                                        f"{header[:200]!r}")
    if len(rows) < 2:
        raise StatementEmpty(0, "the file has a header and no usage lines: a statement has at least one")
    if len(rows) - 1 > MAX_LINES:
        raise StatementTooLarge(0, f"{len(rows) - 1} usage lines are more than {MAX_LINES}: split the period")
    dates: dict[str, int] = {}
    refs: dict[str, WorkRef] = {}
    lines = []
    period: tuple[str, str] | None = None
    for number, raw in enumerate(rows[1:], start=2):
        row = raw.rstrip("\r")
        fields = row.split(sep)
        if len(fields) != len(COLUMNS):
            raise StatementLineMalformed(number, f"{len(fields)} fields, not {len(COLUMNS)} ({', '.join(COLUMNS)})")
        if '"' in row:
            raise StatementLineMalformed(number, "a quote character: fields are not quoted; remove it")
        start, end, service, territory, work, usage, count, amount = fields
        if period is None:
            period = (start, end)
            s, e = _date(dates, number, start, "period_start"), _date(dates, number, end, "period_end")
            if e < s:
                raise StatementLineMalformed(number, f"the period ends ({end}) before it starts ({start})")
        elif (start, end) != period:
            raise StatementPeriodMismatch(number, f"period {start}..{end}, but line 2 says {period[0]}..{period[1]}: "
                                                  "one statement covers one period; split the file")
        ref = refs.get(work)
        if ref is None:
            ref = refs[work] = _work(number, work)
        lines.append(UsageLine(number, _text(number, service, "service"), _text(number, territory, "territory"), ref,
                               _text(number, usage, "usage_type"), _int(number, count, "count", 0),
                               Wei(_int(number, amount, "amount_wei", 1)), keccak(row.encode())))
    assert period is not None
    return UsageStatement(dates[period[0]], dates[period[1]] + DAY - 1, tuple(lines))


def _date(cache: dict[str, int], number: int, value: str, name: str) -> int:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as err:
        raise StatementLineMalformed(number, f"{name} {value!r} is not an ISO date (YYYY-MM-DD)") from err
    cache[value] = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return cache[value]


def _text(number: int, value: str, name: str) -> str:
    if not value.strip() or len(value) > MAX_FIELD:
        raise StatementLineMalformed(number, f"{name} must be 1-{MAX_FIELD} characters, not {value[:40]!r}")
    return value


def _int(number: int, value: str, name: str, least: int) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 40:
        raise StatementLineMalformed(number, f"{name} {value[:50]!r} is not a whole number")
    n = int(value)
    if n < least or (name == "amount_wei" and n > MAX_AMOUNT):
        raise StatementLineMalformed(number, f"{name} {n} is out of range ({least} to {MAX_AMOUNT})")
    return n


def _work(number: int, value: str) -> WorkRef:
    if value.isascii() and value.isdigit() and len(value) < 20:
        work_id = int(value)
        if work_id == 0:
            raise StatementLineMalformed(number, "work 0 names no work: work ids start at 1")
        return WorkRef(value, work_id, None)
    try:
        return WorkRef(value, None, from_text(value))
    except InputError as err:
        raise StatementLineMalformed(number, f"work {value[:80]!r} is neither a work id nor a content CID ({err})") from err
