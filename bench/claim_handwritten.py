"""The floor: the Douyin ``claim`` rules of 2021.08 as a plain hand-written Python function.

Same contract as the engine's generated function for that decision: it takes the coerced input
(Decimal money, aware datetimes, absent optional fields as None) and returns
``(matched rule indexes, result dict with money as two-place strings, reason texts)``, so the benchmark
can check that both give identical answers on every input. Written the way a careful programmer would,
with the params inlined as constants: what perfect code generation could reach.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

CST = timezone(timedelta(hours=8))  # Asia/Shanghai: no DST since 1991
MANDATORY = ("genuine", "seven_day_return", "instant_refund", "shipping_insurance", "doorstep_pickup")
CLAIM_SERVICE = {
    "counterfeit": "genuine",
    "instant_refund": "instant_refund",
    "no_reason_return": "seven_day_return",
    "fresh_rot": "fresh_rot",
    "allergy": "allergy",
}
INSTANT_REFUND_MAX = Decimal("300.00")
SIX_HOURS = timedelta(hours=6)
ONE_DAY = timedelta(hours=24)
EXCLUDED = ("fresh", "customized", "digital")
SUBSIDY_CAP = Decimal("24.00")
ZERO = Decimal("0.00")
DAY = timedelta(days=1)


def _ts(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def _duration(span: timedelta) -> str:
    total = span.days * 86400 + span.seconds
    if total < 0:
        return "-" + _duration(-span)
    if total == 0:
        return "0s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if seconds:
        parts.append(f"{seconds}s")
    return " ".join(parts)


def _window_end(signed: datetime, days: int) -> datetime:
    local = signed.astimezone(CST)
    return datetime(local.year, local.month, local.day, tzinfo=CST) + timedelta(days=days + 1)


def _deny(service: str | None) -> dict[str, Any]:
    return {
        "outcome": "deny",
        "service": service,
        "refund": "0.00",
        "compensation": "0.00",
        "appraisal_fee": "0.00",
        "shipping_subsidy": "0.00",
        "total": "0.00",
    }


def _approve(
    service: str,
    refund: Decimal,
    compensation: Decimal = ZERO,
    fee: Decimal = ZERO,
    subsidy: Decimal = ZERO,
) -> dict[str, Any]:
    return {
        "outcome": "approve",
        "service": service,
        "refund": f"{refund:.2f}",
        "compensation": f"{compensation:.2f}",
        "appraisal_fee": f"{fee:.2f}",
        "shipping_subsidy": f"{subsidy:.2f}",
        "total": f"{refund + compensation + fee + subsidy:.2f}",
    }


def _subsidy(services: Any, claim: dict[str, Any]) -> Decimal:
    if "shipping_insurance" in services or "doorstep_pickup" in services:
        cost = claim["return_shipping_cost"]
        if cost is None:
            return ZERO
        return cost if cost < SUBSIDY_CAP else SUBSIDY_CAP
    return ZERO


def decide_claim(inp: dict[str, Any]) -> tuple[tuple[int, ...], dict[str, Any], tuple[str, ...]]:  # noqa: C901
    order = inp["order"]
    claim = inp["claim"]
    kind = claim["type"]
    filed = claim["filed_at"]
    placed = order["placed_at"]
    if filed < placed:
        reason = f"申请时间 {_ts(filed)} 早于下单时间 {_ts(placed)}，事实矛盾，不予受理"
        return (0,), _deny(CLAIM_SERVICE[kind]), (reason,)
    services = order["services"]
    if services is None:
        services = MANDATORY
    amount = order["amount"]
    if kind == "counterfeit":
        if "genuine" not in services:
            return (1,), _deny("genuine"), ("该商品未开通正品保障服务",)
        if claim["appraisal_result"] == "counterfeit":
            compensation = 3 * amount
            fee = claim["appraisal_fee"]
            cost = claim["return_shipping_cost"]
            result = _approve(
                "genuine",
                amount,
                compensation,
                ZERO if fee is None else fee,
                ZERO if cost is None else cost,
            )
            return (2,), result, (f"鉴定为假货：退还货款 {amount:.2f} 元，并赔付 {compensation:.2f} 元",)
        return (3,), _deny("genuine"), ("没有鉴定为假货的结果，不适用退一赔三",)
    if kind == "instant_refund":
        if "instant_refund" not in services:
            return (4,), _deny("instant_refund"), ("该商品未开通极速退款服务",)
        if amount > INSTANT_REFUND_MAX:
            return (5,), _deny("instant_refund"), (f"订单金额 {amount:.2f} 元超过极速退款上限 300.00 元",)
        if order["shipped_at"] is not None:
            return (6,), _deny("instant_refund"), ("订单已发货，不适用极速退款",)
        waited = filed - placed
        if waited > SIX_HOURS:
            return (7,), _deny("instant_refund"), (f"下单后 {_duration(waited)} 才申请，超过 6h 的时限",)
        reason = f"未发货订单 {amount:.2f} 元，下单后 {_duration(waited)} 内申请，极速退款"
        return (8,), _approve("instant_refund", amount), (reason,)
    if kind == "no_reason_return":
        if "seven_day_return" not in services:
            return (9,), _deny("seven_day_return"), ("该商品未开通七天无理由退换服务",)
        signed = order["signed_at"]
        if signed is None:
            return (10,), _deny("seven_day_return"), ("订单尚未签收，七天无理由自签收次日起算",)
        category = order["category"]
        if category in EXCLUDED:
            return (11,), _deny("seven_day_return"), (f"{category} 类目商品不适用七天无理由退货",)
        intact = claim["item_intact"]
        if intact is not None and not intact:
            return (12,), _deny("seven_day_return"), ("商品不完好，不适用七天无理由退货",)
        end = _window_end(signed, 7)
        if filed >= end:
            return (13,), _deny("seven_day_return"), (f"申请时间晚于 {_ts(end)}，已超过签收后 7 天",)
        subsidy = _subsidy(services, claim)
        reason = f"签收后 7 天内申请，退还 {amount:.2f} 元，运费补贴 {subsidy:.2f} 元"
        return (14,), _approve("seven_day_return", amount, subsidy=subsidy), (reason,)
    if kind == "fresh_rot":
        if "fresh_rot" not in services:
            return (15,), _deny("fresh_rot"), ("该商品未开通生鲜坏单包赔服务",)
        if order["category"] != "fresh":
            return (16,), _deny("fresh_rot"), ("只有生鲜类目适用坏单包赔",)
        signed = order["signed_at"]
        if signed is None:
            return (17,), _deny("fresh_rot"), ("订单尚未签收",)
        waited = filed - signed
        if waited > ONE_DAY:
            return (18,), _deny("fresh_rot"), (f"签收后 {_duration(waited)} 才申请，超过 1d 的时限",)
        claimed = claim["claimed_amount"]
        refund = amount if claimed is None or claimed > amount else claimed
        reason = f"签收后 {_duration(waited)} 内申请，赔付 {refund:.2f} 元"
        return (19,), _approve("fresh_rot", refund), (reason,)
    if kind == "allergy":
        if "allergy" not in services:
            return (20,), _deny("allergy"), ("该商品未开通美妆过敏包退服务",)
        if order["category"] != "beauty":
            return (21,), _deny("allergy"), ("只有美妆类目适用过敏包退",)
        signed = order["signed_at"]
        if signed is None:
            return (22,), _deny("allergy"), ("订单尚未签收",)
        end = _window_end(signed, 60)
        if filed >= end:
            return (23,), _deny("allergy"), (f"申请时间晚于 {_ts(end)}，已超过签收后 60 天",)
        subsidy = _subsidy(services, claim)
        reason = f"签收后 60 天内申请，退还 {amount:.2f} 元，运费补贴 {subsidy:.2f} 元"
        return (24,), _approve("allergy", amount, subsidy=subsidy), (reason,)
    return (-1,), _deny(None), ("不符合任何安心购服务条件",)
