"""The reference corpus: 1,000 Douyin claim inputs from a fixed seed, over-sampling the boundaries.

Boundaries (spec/shared bench-reference): 300.00/300.01 for instant refund, exactly 6h/24h after
placing/signing and one second past, the 7- and 60-day windows' ends and one second either side,
unsigned and unshipped orders, every claim type, claims whose item lacks the service, claims filed
before the order. Inputs are raw JSON values (money as strings, or as JSON numbers for one in five),
all valid against ``schemas/douyin-anxingou/claim.input.schema.json`` and all placed while 2021.08 is
in force.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

SEED = 20210810
SIZE = 1000
CST = timezone(timedelta(hours=8))
SERVICES = (
    "genuine",
    "seven_day_return",
    "instant_refund",
    "shipping_insurance",
    "doorstep_pickup",
    "fresh_rot",
    "allergy",
    "same_day_dispatch",
    "dispatch_24h",
)
CLAIM_TYPES = ("counterfeit", "instant_refund", "no_reason_return", "fresh_rot", "allergy")
CATEGORIES = ("general", "fresh", "beauty", "customized", "digital")
FIRST = datetime(2021, 8, 10, tzinfo=CST)
LAST = datetime(2023, 7, 1, tzinfo=CST)  # 2023.07 starts 2023-07-25: every input is decided by 2021.08
SECOND = timedelta(seconds=1)


def _window_end(signed: datetime, days: int) -> datetime:
    local = signed.astimezone(CST)
    return datetime(local.year, local.month, local.day, tzinfo=CST) + timedelta(days=days + 1)


def _ts(rng: random.Random, moment: datetime) -> str:
    if rng.random() < 0.15:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(CST).isoformat(timespec="seconds")


def _money(rng: random.Random, amount: Decimal) -> Any:
    return amount if rng.random() < 0.2 else f"{amount:.2f}"


def _amount(rng: random.Random) -> Decimal:
    pick = rng.random()
    if pick < 0.3:
        return Decimal(rng.choice(("300.00", "300.01", "299.99", "300", "0.01", "24.00", "24.01")))
    return Decimal(rng.randint(1, rng.choice((40_000, 200_000)))) / 100


def _filed(rng: random.Random, kind: str, placed: datetime, signed: datetime | None) -> datetime:
    if rng.random() < 0.04:
        return placed - rng.choice((SECOND, timedelta(hours=rng.randint(1, 48))))
    if kind == "instant_refund" or signed is None:
        choice = rng.random()
        if choice < 0.25:
            return placed + timedelta(hours=6)
        if choice < 0.4:
            return placed + timedelta(hours=6) + SECOND
        return placed + timedelta(seconds=rng.randint(0, rng.choice((12 * 3600, 3 * 86400))))
    if kind == "fresh_rot":
        return signed + rng.choice(
            (timedelta(hours=24), timedelta(hours=24) + SECOND, timedelta(seconds=rng.randint(0, 2 * 86400)))
        )
    if kind in ("no_reason_return", "allergy"):
        days = 7 if kind == "no_reason_return" else 60
        end = _window_end(signed, days)
        return rng.choice(
            (
                end,
                end - SECOND,
                end + SECOND,
                signed + timedelta(days=days),
                signed + timedelta(days=days) + SECOND,
                signed + timedelta(seconds=rng.randint(0, (days + 5) * 86400)),
            )
        )
    return placed + timedelta(seconds=rng.randint(0, 30 * 86400))


def _services(rng: random.Random, kind: str) -> list[str] | None:
    pick = rng.random()
    if pick < (0.15 if kind in ("fresh_rot", "allergy") else 0.45):
        return None  # the five mandatory services
    chosen = [s for s in SERVICES if rng.random() < 0.55]
    needed = {"fresh_rot": "fresh_rot", "allergy": "allergy", "counterfeit": "genuine"}.get(kind, kind)
    if kind == "no_reason_return":
        needed = "seven_day_return"
    if pick < 0.85 and needed not in chosen:
        chosen.append(needed)
    elif pick >= 0.85 and needed in chosen:
        chosen.remove(needed)  # the claim fails its service
    return chosen


def _category(rng: random.Random, kind: str) -> str:
    natural = {"fresh_rot": "fresh", "allergy": "beauty"}.get(kind)
    if natural is not None and rng.random() < 0.7:
        return natural
    return rng.choice(CATEGORIES)


def one_input(rng: random.Random) -> dict[str, Any]:
    """One claim input (raw JSON values)."""
    kind = rng.choice(CLAIM_TYPES)
    placed = FIRST + timedelta(seconds=rng.randint(0, int((LAST - FIRST).total_seconds())))
    unshipped = 0.7 if kind == "instant_refund" else 0.3
    shipped = None if rng.random() < unshipped else placed + timedelta(seconds=rng.randint(600, 3 * 86400))
    signed = None
    if shipped is not None and rng.random() < 0.85:
        signed = shipped + timedelta(seconds=rng.randint(3600, 5 * 86400))
    amount = _amount(rng)
    order: dict[str, Any] = {
        "amount": _money(rng, amount),
        "category": _category(rng, kind),
        "placed_at": _ts(rng, placed),
        "shipped_at": None if shipped is None else _ts(rng, shipped),
        "signed_at": None if signed is None else _ts(rng, signed),
    }
    services = _services(rng, kind)
    if services is not None:
        order["services"] = services
    claim: dict[str, Any] = {"type": kind, "filed_at": _ts(rng, _filed(rng, kind, placed, signed))}
    if kind == "counterfeit" and rng.random() < 0.8:
        claim["appraisal_result"] = rng.choice(("counterfeit", "genuine"))
    if rng.random() < 0.3:
        claim["appraisal_fee"] = _money(rng, Decimal(rng.randint(0, 20_000)) / 100)
    if rng.random() < 0.5:
        cost = Decimal(rng.choice(("24.00", "24.01", "23.99", "0", "12.50", "30")))
        claim["return_shipping_cost"] = _money(rng, cost)
    if rng.random() < 0.4:
        share = Decimal(rng.choice(("0.5", "1", "2")))
        claim["claimed_amount"] = _money(rng, (amount * share).quantize(Decimal("0.01")))
    if rng.random() < 0.3:
        claim["item_intact"] = rng.random() < 0.6
    return {"order": order, "claim": claim}


def corpus(size: int = SIZE, seed: int = SEED) -> list[dict[str, Any]]:
    """The reference corpus."""
    rng = random.Random(seed)
    return [one_input(rng) for _ in range(size)]
