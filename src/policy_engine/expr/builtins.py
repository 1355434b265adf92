"""The runtime side of the policy built-ins: the functions generated decision code calls as ``_bi_<name>``.

Null semantics follow docs/policy-language.md: a null (``None``) argument gives null, except that
``coalesce`` looks for the first non-null argument. ``len``, ``sum``, ``any`` and ``all`` give null for a
null list; ``min``, ``max`` and ``sum`` give null when any item is null. Money stays :class:`~decimal.Decimal`
throughout (a float is refused), and the time functions take the program's zone as their last parameter,
which the code generator passes; they never read the wall clock or the machine's zone. Timestamps they
return carry the zone's offset at that instant as a fixed-offset tzinfo (like parsed input timestamps), so
adding a duration to them is exact elapsed time and ``==`` compares instants.

This module is the table of them by name; the functions live in :mod:`.builtins_numbers` (numbers and
money), :mod:`.builtins_collections` (lists and tables) and :mod:`.builtins_time` (durations, local dates
and times, day windows), and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from policy_engine.expr.builtins_collections import (
    bi_all,
    bi_any,
    bi_coalesce,
    bi_len,
    bi_lookup,
    bi_max,
    bi_min,
    bi_sum,
)
from policy_engine.expr.builtins_numbers import bi_abs, bi_floor, bi_round_money
from policy_engine.expr.builtins_time import (
    bi_add_days,
    bi_day_window_end,
    bi_days_between,
    bi_duration,
    bi_end_of_day,
    bi_local_date,
    bi_local_time,
    bi_start_of_day,
)

__all__ = (
    "BUILTIN_FUNCTIONS",
    "ZONED_BUILTINS",
    "bi_abs",
    "bi_add_days",
    "bi_all",
    "bi_any",
    "bi_coalesce",
    "bi_day_window_end",
    "bi_days_between",
    "bi_duration",
    "bi_end_of_day",
    "bi_floor",
    "bi_len",
    "bi_local_date",
    "bi_local_time",
    "bi_lookup",
    "bi_max",
    "bi_min",
    "bi_round_money",
    "bi_start_of_day",
    "bi_sum",
)


BUILTIN_FUNCTIONS: Mapping[str, Callable[..., object]] = MappingProxyType(
    {
        "min": bi_min,
        "max": bi_max,
        "abs": bi_abs,
        "floor": bi_floor,
        "round_money": bi_round_money,
        "len": bi_len,
        "sum": bi_sum,
        "any": bi_any,
        "all": bi_all,
        "coalesce": bi_coalesce,
        "local_date": bi_local_date,
        "local_time": bi_local_time,
        "start_of_day": bi_start_of_day,
        "end_of_day": bi_end_of_day,
        "add_days": bi_add_days,
        "days_between": bi_days_between,
        "day_window_end": bi_day_window_end,
        "lookup": bi_lookup,
        "duration": bi_duration,
    }
)
"""Every built-in by its policy name; generated code calls them as ``_bi_<name>``."""

ZONED_BUILTINS: frozenset[str] = frozenset(
    {"local_date", "local_time", "start_of_day", "end_of_day", "days_between", "day_window_end"}
)
"""The built-ins whose last parameter is the program's zone, which the code generator appends."""
