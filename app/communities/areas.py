"""Floor areas 专有部分面积, in m²: one rule wherever an area comes in (``POST /households`` and the
roster import), so that what one refuses the other cannot let in.

An owners' vote counts area (Civil Code art. 278), where 0.01 m² can decide it (66.66 against 66.67
of 100): an area is taken exactly as written, or refused with the reason, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_M2 = Decimal("10000")  # no home, shop or homestead in a community is larger
_CENT = Decimal("0.01")


def floor_area(text: str) -> Decimal:
    """The area written in ``text`` (at most two decimals, as a property register states it); a
    ValueError whose message is the reason's message key otherwise."""
    try:
        area = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError("validation.area_not_number") from None
    if not area.is_finite():
        raise ValueError("validation.area_not_number")
    if area <= 0:
        raise ValueError("validation.area_not_positive")
    if area > MAX_M2:
        raise ValueError("validation.area_too_large")
    if area != area.quantize(_CENT):
        raise ValueError("validation.area_too_precise")
    return area.quantize(_CENT)
