"""Built-ins on lists and tables: len, sum, any, all, min, max, coalesce and lookup.

``len``, ``sum``, ``any`` and ``all`` give null for a null list; ``min``, ``max`` and ``sum`` give null when
any item is null; ``coalesce`` looks for the first non-null argument. Sums stay exact (ints, Decimals or
durations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from policy_engine.expr.builtins_numbers import _number

__all__ = ("bi_all", "bi_any", "bi_coalesce", "bi_len", "bi_lookup", "bi_max", "bi_min", "bi_sum")


# -- helpers --------------------------------------------------------------------------------------


def _is_collection(value: object) -> bool:
    """Whether ``value`` is a list-like argument (list, tuple, generator …), not a scalar or string."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def _extreme(args: tuple[Any, ...], pick: Callable[[list[Any]], Any]) -> Any:
    items: list[Any]
    if len(args) == 1 and (args[0] is None or _is_collection(args[0])):
        if args[0] is None:
            return None
        items = list(args[0])
    else:
        items = list(args)
    if not items or any(item is None for item in items):
        return None
    return pick(items)


# -- smallest and largest -------------------------------------------------------------------------


def bi_min(*args: Any) -> Any:
    """``min(a, b, …)`` or ``min(list)``: the smallest value.

    Args:
        *args: The values, or one list (or generator) of them.

    Returns:
        The smallest; null when any value is null, the list is null or it is empty.
    """
    return _extreme(args, min)


def bi_max(*args: Any) -> Any:
    """``max(a, b, …)`` or ``max(list)``: the largest value.

    Args:
        *args: The values, or one list (or generator) of them.

    Returns:
        The largest; null when any value is null, the list is null or it is empty.
    """
    return _extreme(args, max)


# -- collections ----------------------------------------------------------------------------------


def bi_len(items: Iterable[object] | None) -> int | None:
    """``len(list)``: how many items.

    Args:
        items: A list, table or generator, or null.

    Returns:
        The count, or null for a null list.
    """
    if items is None:
        return None
    if isinstance(items, list | tuple | Mapping):
        return len(items)
    return sum(1 for _ in items)


def bi_sum(items: Iterable[Any] | None) -> Any:
    """``sum(list)``: the exact total of numbers (or of durations).

    Numbers are added to ``Decimal(0)``, so a money list stays Decimal; a list of ints alone gives an int,
    a list of durations a duration, and an empty list ``Decimal(0)``.

    Args:
        items: A list or generator of numbers or durations, or null.

    Returns:
        The total, or null when the list or any item is null.
    """
    if items is None:
        return None
    values = list(items)
    if any(v is None for v in values):
        return None
    if values and all(isinstance(v, timedelta) for v in values):
        return sum(values, timedelta(0))
    numbers = [_number(v, "sum") for v in values]
    if numbers and all(isinstance(n, int) for n in numbers):
        return sum(numbers)
    total = Decimal(0)
    for number in numbers:
        total += number
    return total


def bi_any(items: Iterable[object] | None) -> bool | None:
    """``any(list)``: whether some item is true.

    Args:
        items: A list or generator of booleans, or null. A null item counts as false.

    Returns:
        The answer, or null for a null list.
    """
    if items is None:
        return None
    return any(bool(item) for item in items)


def bi_all(items: Iterable[object] | None) -> bool | None:
    """``all(list)``: whether every item is true (true for an empty list).

    Args:
        items: A list or generator of booleans, or null. A null item counts as false.

    Returns:
        The answer, or null for a null list.
    """
    if items is None:
        return None
    return all(bool(item) for item in items)


def bi_coalesce(*args: Any) -> Any:
    """``coalesce(a, b, …)``: the first argument that is not null.

    Args:
        *args: The candidates.

    Returns:
        The first non-null one, or null when all are null.
    """
    for arg in args:
        if arg is not None:
            return arg
    return None


def bi_lookup(table: Mapping[Any, Mapping[str, object]] | None, key: object) -> Mapping[str, object] | None:
    """``lookup(table, key)``: the row of a table param whose key column equals ``key``.

    Args:
        table: The table param: rows by key.
        key: The key, or null.

    Returns:
        The row, or null when the key (or table) is null.

    Raises:
        LookupError: When no row has that key (an evaluation error: a policy bug).
    """
    if table is None or key is None:
        return None
    try:
        return table[key]
    except (KeyError, TypeError):
        raise LookupError(f"no row with key {key!r} in the table") from None
