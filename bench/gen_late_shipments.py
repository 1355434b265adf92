"""Write N taobao-anxingou late_shipment decide requests as JSON Lines (a corpus for `policy diff`).

Usage: python bench/gen_late_shipments.py N [--out FILE] [--seed S]

From a fixed seed: orders of 0.50 to 3,000.00 (many near the 2015.10 floor 5.00 / cap 30.00 and the 2022.09
cap 100.00 boundaries), one in five in a special category; 70 % shipped late, 20 % on time, 10 % not shipped
(half of them checked after the promise). Orders are placed in 2023 (2022.09 in force), so
`policy diff taobao-anxingou --from 2015.10 --to 2022.09 --corpus FILE` shows what the 2022 rule costs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from typing import TextIO

CST = timezone(timedelta(hours=8))
START = datetime(2023, 1, 1, tzinfo=CST)
BOUNDARIES = ("100.00", "99.99", "100.01", "600.00", "300.00", "1000.00", "1000.01", "50.00", "20.00")


def _amount(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.05:
        return rng.choice(BOUNDARIES)
    if pick < 0.35:
        cents = rng.randint(50, 10_000)  # 0.50 … 100.00: the floors
    elif pick < 0.85:
        cents = rng.randint(10_000, 100_000)  # 100.00 … 1,000.00: the 2015.10 cap and the 2022.09 rate
    else:
        cents = rng.randint(100_000, 300_000)  # up to 3,000.00: both caps
    return f"{cents // 100}.{cents % 100:02d}"


def _time(moment: datetime) -> str:
    return moment.isoformat()


def request(rng: random.Random) -> dict[str, object]:
    """One decide request."""
    placed = START + timedelta(seconds=rng.randint(0, 330 * 86_400))
    promised = placed + timedelta(hours=rng.choice((24, 48, 72)))
    kind = rng.random()
    checked: datetime | None = None
    shipped: datetime | None
    if kind < 0.70:
        shipped = promised + timedelta(seconds=rng.randint(1, 5 * 86_400))
    elif kind < 0.90:
        shipped = promised - timedelta(seconds=rng.randint(0, 86_400))
    else:
        shipped = None
        if rng.random() < 0.5:
            checked = promised + timedelta(hours=rng.randint(1, 72))
    order = {
        "amount": _amount(rng),
        "placed_at": _time(placed),
        "promised_ship_by": _time(promised),
        "shipped_at": None if shipped is None else _time(shipped),
        "special_category": rng.random() < 0.2,
    }
    data: dict[str, object] = {"order": order}
    if checked is not None:
        data["checked_at"] = _time(checked)
    at = (shipped or checked or promised) + timedelta(hours=1)
    return {"program": "taobao-anxingou", "decision": "late_shipment", "at": _time(at), "input": data}


def write(count: int, out: TextIO, seed: int = 20220903) -> None:
    """Write ``count`` requests, one JSON object a line."""
    rng = random.Random(seed)
    for _ in range(count):
        out.write(json.dumps(request(rng), separators=(",", ":")))
        out.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--out", default="-", help="output file (default: stdout)")
    parser.add_argument("--seed", type=int, default=20220903)
    args = parser.parse_args()
    if args.out == "-":
        write(args.count, sys.stdout, args.seed)
        return
    with open(args.out, "w", encoding="utf-8") as handle:
        write(args.count, handle, args.seed)


if __name__ == "__main__":
    main()
