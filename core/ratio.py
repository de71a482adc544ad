"""A rate as numerator and denominator, so reports can show both and "no data" is not 0 %."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator``; ``value`` is ``None`` when there is nothing to measure."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> str:
        """For reports: ``"87.5%"`` or ``"—"``."""
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    def as_json(self) -> dict[str, Any]:
        value = self.value
        return {"numerator": self.numerator, "denominator": self.denominator,
                "value": None if value is None else round(value, 4)}
