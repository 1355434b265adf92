"""Built-ins on numbers and money: ``abs``, ``floor`` and ``round_money``, and the exact-number checks.

Numbers are ints or :class:`~decimal.Decimal` (a float or bool is refused), so money stays exact; a null
argument gives null. ``_number`` and ``_whole`` also check the arguments of the other built-in modules.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from policy_engine.expr.values import round_to_cent

__all__ = ("bi_abs", "bi_floor", "bi_round_money")


# -- helpers --------------------------------------------------------------------------------------


def _number(x: object, name: str) -> int | Decimal:
    """``x`` when it is an exact number (int or Decimal, not bool or float), else a TypeError."""
    if isinstance(x, bool) or not isinstance(x, int | Decimal):
        raise TypeError(f"{name} needs a number, not {type(x).__name__}")
    return x


def _whole(n: object, name: str) -> int:
    """A whole number given as int or as an integral Decimal."""
    number = _number(n, name)
    if isinstance(number, Decimal):
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{name} needs a whole number, not {number}")
        return int(number)
    return number


# -- numbers --------------------------------------------------------------------------------------


def bi_abs(x: int | Decimal | timedelta | None) -> int | Decimal | timedelta | None:
    """``abs(x)``: the absolute value of a number or a duration, exactly.

    Args:
        x: A number or duration, or null.

    Returns:
        The absolute value, or null.
    """
    if x is None:
        return None
    if isinstance(x, timedelta):
        return abs(x)
    number = _number(x, "abs")
    return number.copy_abs() if isinstance(number, Decimal) else abs(number)


def bi_floor(x: int | Decimal | None) -> int | None:
    """``floor(x)``: the largest whole number not above ``x``.

    Args:
        x: A number, or null.

    Returns:
        An int, or null.

    Raises:
        ValueError: For NaN or infinity.
    """
    if x is None:
        return None
    number = _number(x, "floor")
    if isinstance(number, Decimal):
        if not number.is_finite():
            raise ValueError(f"floor of {number}")
        return int(number.to_integral_value(rounding=ROUND_FLOOR))
    return number


def bi_round_money(x: int | Decimal | None) -> Decimal | None:
    """``round_money(x)``: half-up to the cent (``0.005`` → ``0.01``, ``2.675`` → ``2.68``).

    Args:
        x: A number, or null.

    Returns:
        A Decimal with exactly two places (never ``-0.00``), or null.
    """
    if x is None:
        return None
    return round_to_cent(Decimal(_number(x, "round_money")))
