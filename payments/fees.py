"""What a dossier costs: the state fee, the agent's service fee and the courier fee.

Pure Python over plain values; money is an integer number of đồng.

- State fee (phí, lệ phí): the procedure's own amount.
- Service fee: per agent organisation, flat or a percentage of the state fee with a
  minimum and a maximum, versioned by the date it takes effect.
- Courier fee: by delivery distance band (only when the result goes back by post).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class ServiceFeeRule:
    effective_from: date
    flat_vnd: int = 0
    percent: Decimal = Decimal(0)  # of the state fee, e.g. Decimal("10") for 10%
    minimum_vnd: int = 0
    maximum_vnd: int | None = None

    def __post_init__(self):
        if self.flat_vnd < 0 or self.percent < 0 or self.minimum_vnd < 0:
            raise ValueError("fees are never negative")
        if self.maximum_vnd is not None and self.maximum_vnd < self.minimum_vnd:
            raise ValueError("the maximum is below the minimum")

    def highest(self) -> int | None:
        """The most this rule can charge on any state fee; None when a percentage has no maximum."""
        if self.percent > 0:
            return self.maximum_vnd
        total = max(self.minimum_vnd, self.flat_vnd)
        return min(total, self.maximum_vnd) if self.maximum_vnd is not None else total

    def amount(self, state_fee_vnd: int) -> int:
        variable = (Decimal(state_fee_vnd) * self.percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        total = max(self.minimum_vnd, self.flat_vnd + int(variable))
        return min(total, self.maximum_vnd) if self.maximum_vnd is not None else total


@dataclass(frozen=True)
class CourierBand:
    up_to_km: float | None  # None: everything beyond the previous band
    fee_vnd: int


# Illustrative bands for returning a result by post inside Hanoi (not a published tariff).
DEFAULT_COURIER_BANDS = (CourierBand(5, 22_000), CourierBand(15, 30_000), CourierBand(30, 38_000),
                         CourierBand(None, 45_000))


@dataclass(frozen=True)
class Quote:
    state_fee_vnd: int
    service_fee_vnd: int
    courier_fee_vnd: int

    @property
    def total_vnd(self) -> int:
        return self.state_fee_vnd + self.service_fee_vnd + self.courier_fee_vnd

    def components(self) -> dict[str, int]:
        return {"state_fee": self.state_fee_vnd, "service_fee": self.service_fee_vnd,
                "courier_fee": self.courier_fee_vnd}


def rule_on(rules: Sequence[ServiceFeeRule], day: date) -> ServiceFeeRule | None:
    """The rule in effect on ``day``: the latest that took effect on or before it."""
    effective = [r for r in rules if r.effective_from <= day]
    return max(effective, key=lambda r: r.effective_from) if effective else None


def courier_fee(distance_km: float, bands: Sequence[CourierBand] = DEFAULT_COURIER_BANDS) -> int:
    for band in bands:
        if band.up_to_km is None or distance_km <= band.up_to_km:
            return band.fee_vnd
    raise ValueError("the courier bands do not cover this distance")


def on_top(rule: ServiceFeeRule | None, state_fees: Sequence[int], cap_vnd: int | None = None) -> list[dict]:
    """What the citizen pays on top of each of ``state_fees`` for the agent's service under ``rule``."""
    rows = []
    for state_fee in state_fees:
        service = service_fee(rule, state_fee, cap_vnd)
        rows.append({"state_fee_vnd": state_fee, "service_fee_vnd": service, "total_vnd": state_fee + service})
    return rows


def service_fee(rule: ServiceFeeRule | None, state_fee_vnd: int, cap_vnd: int | None = None) -> int:
    """The rule's service fee, never above the cap (a rule older than the cap may say more)."""
    amount = rule.amount(state_fee_vnd) if rule else 0
    return min(amount, cap_vnd) if cap_vnd else amount


def quote(state_fee_vnd: int, service_rules: Sequence[ServiceFeeRule], day: date,
          delivery_km: float | None = None, bands: Sequence[CourierBand] = DEFAULT_COURIER_BANDS,
          cap_vnd: int | None = None) -> Quote:
    """The price of a dossier on ``day``; ``delivery_km`` when the result goes back by courier; the service
    fee at most ``cap_vnd`` (None or 0: no cap)."""
    if state_fee_vnd < 0:
        raise ValueError("a state fee is never negative")
    return Quote(
        state_fee_vnd,
        service_fee(rule_on(service_rules, day), state_fee_vnd, cap_vnd),
        courier_fee(delivery_km, bands) if delivery_km is not None else 0,
    )
