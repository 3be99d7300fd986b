"""Which repeated pairs of an earlier tree still stand in today's: issue 21's "at most half of today's
80 repeated pairs remain", counted.

`duplicates` (the repeated-code finder of the development machines) lists pairs of places sharing six
or more lines. Given its listing of an earlier tree and of today's, a pair of the earlier tree still
stands when some pair of today's has, on each side, a run holding at least half of the earlier side's
distinct lines (stripped; blank, comment and lone-punctuation lines dropped; today's side read four
lines wider), in either order. The matching is by content, so a pair whose code moved to another
file still counts; each pair of today's accounts for one earlier pair at most.

    git worktree add /tmp/then 77a0f87     # the tree issue 21 was filed on
    (cd /tmp/then && duplicates --seconds 300 --most 200 > /tmp/then.txt)
    duplicates --seconds 300 --most 200 > /tmp/now.txt
    python3 scripts/duplicates_since.py /tmp/then.txt /tmp/then /tmp/now.txt .

Prints each earlier pair as `kept as Dn` (today's row) or `gone`, then the count.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROW = re.compile(r"^(D\d+) (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)")
Side = tuple[str, int, int]


def rows(listing: Path) -> list[tuple[str, Side, Side, str]]:
    out = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if m := ROW.match(line):
            d, fa, a1, a2, fb, b1, b2 = m.groups()
            out.append((d, (fa, int(a1), int(a2)), (fb, int(b1), int(b2)), line))
    return out


def lines(tree: Path, side: Side, pad: int = 0) -> set[str]:
    name, first, last = side
    text = (tree / name).read_text(encoding="utf-8").splitlines()[max(0, first - 1 - pad):last + pad]
    kept = (line.strip() for line in text)
    return {line for line in kept if line and not line.startswith(("#", "//")) and line not in "(){}[]);,"}


def covers(earlier: set[str], today: set[str]) -> bool:
    return bool(earlier) and len(earlier & today) / len(earlier) >= 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("then_listing", type=Path, help="`duplicates` output for the earlier tree")
    parser.add_argument("then_tree", type=Path, help="a checkout of the earlier tree")
    parser.add_argument("now_listing", type=Path, help="`duplicates` output for today's tree")
    parser.add_argument("now_tree", type=Path, help="today's checkout")
    args = parser.parse_args()
    today = [(d, lines(args.now_tree, a, 4), lines(args.now_tree, b, 4)) for d, a, b, _ in rows(args.now_listing)]
    earlier = rows(args.then_listing)
    used: set[str] = set()
    for _, a, b, line in earlier:
        ea, eb = lines(args.then_tree, a), lines(args.then_tree, b)
        hit = next((d for d, ta, tb in today if d not in used
                    and ((covers(ea, ta) and covers(eb, tb)) or (covers(ea, tb) and covers(eb, ta)))), None)
        if hit:
            used.add(hit)
        print(f"{'kept as ' + hit if hit else 'gone':12s} {line}")
    print(f"{len(used)} of {len(earlier)} earlier pairs still stand; today's tree has {len(today)} pairs in all")


if __name__ == "__main__":
    main()
