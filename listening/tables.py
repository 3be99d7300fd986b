"""The seed studies' tables, rebuilt from one of our own studies' results (`listening.analysis`).

- `authenticity_table`: authenticity mean ± SD per condition, with ICC(2,k) and its interval
  (the value-chain study: 21 ethnomusicologists, 5-point scale, ICC(2,k) = 0.82);
- `criteria_table`: mean ± SD of valence, arousal, authenticity, harmony and overall quality per
  model (the Daur-music study: 26 experts, 3.52–4.21);
- `satisfaction_table`: approval share and mean ± SD of the two 4-point satisfaction questions,
  about the performance and about its visualisation (the delivery study: 80.00 % and 67.27 %).

The criterion names are parameters: a study may call its questions what it likes.
"""

from __future__ import annotations

from dataclasses import dataclass

from listening.analysis import CriterionResult, Estimate, StudyAnalysis, Summary

FIVE_CRITERIA = ("valence", "arousal", "authenticity", "harmony", "overall")
SATISFACTION = ("performance", "visualisation")
DASH = "—"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    def to_markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines + (["", self.note] if self.note else [])) + "\n"


def mean_sd(s: Summary) -> str:
    if s.mean is None:
        return DASH
    return f"{s.mean:.2f}" if s.sd is None else f"{s.mean:.2f} ± {s.sd:.2f}"


def interval(e: Estimate | None) -> str:
    if e is None:
        return DASH
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.2f}"
    return f"{e.value:.2f} [{e.ci_low:.2f}, {e.ci_high:.2f}]"


def percent(share: float | None) -> str:
    return DASH if share is None else f"{100 * share:.2f}%"


def _notes(c: CriterionResult) -> str:
    r = c.reliability
    parts = [f"{r.raters} raters, {r.targets} pieces in the ICC table"]
    if r.dropped_targets:
        parts.append(f"{r.dropped_targets} pieces dropped for a missing rating")
    if r.note:
        parts.append(r.note)
    return f"{c.name}: " + "; ".join(parts)


def authenticity_table(result: StudyAnalysis, *, criterion: str = "authenticity") -> Table:
    c = result.criterion(criterion)
    level = round(result.confidence * 100)
    rows = [(x.condition, str(x.pieces), str(x.summary.n), mean_sd(x.summary), interval(x.reliability.icc2_k))
            for x in c.conditions]
    rows.append(("All conditions", str(result.pieces), str(c.summary.n), mean_sd(c.summary), interval(c.reliability.icc2_k)))
    return Table(title=f"{criterion.capitalize()} ({c.scale_min}–{c.scale_max}) per condition",
                 columns=("Condition", "Pieces", "Ratings", "Mean ± SD", f"ICC(2,k) [{level}% CI]"), rows=tuple(rows),
                 note=_notes(c))


def criteria_table(result: StudyAnalysis, *, criteria: tuple[str, ...] = FIVE_CRITERIA) -> Table:
    cs = [result.criterion(name) for name in criteria]
    conditions = list(dict.fromkeys(x.condition for c in cs for x in c.conditions))
    rows = []
    for cond in conditions:
        cells = [mean_sd(next((x.summary for x in c.conditions if x.condition == cond), Summary(0, None, None, None)))
                 for c in cs]
        rows.append((cond, *cells))
    return Table(title="Ratings per model (mean ± SD)", columns=("Model", *criteria), rows=tuple(rows),
                 note="; ".join(f"{c.name} ICC(2,k) {interval(c.reliability.icc2_k)}" for c in cs))


def satisfaction_table(result: StudyAnalysis, *, questions: tuple[str, ...] = SATISFACTION) -> Table:
    rows = []
    for name in questions:
        c = result.criterion(name)
        threshold = DASH if c.approval_threshold is None else f"≥ {c.approval_threshold} of {c.scale_min}–{c.scale_max}"
        rows.append((name, str(c.summary.n), threshold, percent(c.summary.approval), mean_sd(c.summary)))
    return Table(title="Satisfaction", columns=("Question", "Ratings", "Approval counts", "Approval", "Mean ± SD"),
                 rows=tuple(rows))
