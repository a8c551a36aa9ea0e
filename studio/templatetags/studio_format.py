"""Template filters for money and small display helpers."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def money(cents: Any) -> str:
    """500 -> "$5.00"; -120 -> "−$1.20". Credits are kept in cents."""
    try:
        value = int(cents)
    except (TypeError, ValueError):
        return ""
    sign = "−" if value < 0 else ""
    return f"{sign}${abs(value) / 100:,.2f}"


@register.filter
def percent_of(part: Any, whole: Any) -> int:
    try:
        return max(0, min(100, round(int(part) * 100 / int(whole))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0


@register.filter
def humanize(value: Any) -> str:
    """ "remove_background" -> "Remove background" (job kinds, operation names)."""
    text = str(value or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]
