"""What one assignment slot and one bonus cost the requester: MTurk's fee rules, from settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from openturk.money import fee_cents
from openturk.settings import Fees

# Production and sandbox Masters qualification type ids: HITs requiring them pay the Masters fee.
MASTERS_QUALIFICATION_IDS = frozenset({"2F1QJWKUDD8XADTFD2Q0G6UTO95ALH", "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6"})
# A requirement with these keeps Masters out rather than asking for them: no Masters fee.
_EXCLUDING = frozenset({"DoesNotExist", "NotEqualTo", "NotIn"})


def requires_masters(requirements: Iterable[Mapping[str, Any]]) -> bool:
    return any(
        r.get("QualificationTypeId") in MASTERS_QUALIFICATION_IDS and r.get("Comparator") not in _EXCLUDING
        for r in requirements
    )


@dataclass(frozen=True, slots=True)
class SlotPrice:
    reward_cents: int
    fee_cents: int

    @property
    def total_cents(self) -> int:
        return self.reward_cents + self.fee_cents


def slot_price(
    fees: Fees, reward_cents: int, max_assignments: int, requirements: Iterable[Mapping[str, Any]] = ()
) -> SlotPrice:
    """The fee is computed per assignment and rounded there (half-up, at least the minimum), then the
    slot is reserved MaxAssignments times.  A zero reward carries no fee: 20% of nothing is nothing."""
    if reward_cents == 0:
        return SlotPrice(0, 0)
    rate = fees.reward_rate
    if max_assignments >= fees.large_hit_threshold:
        rate += fees.large_hit_rate
    if requires_masters(requirements):
        rate += fees.masters_rate
    return SlotPrice(reward_cents, fee_cents(reward_cents, rate, fees.minimum_cents))


def bonus_fee(fees: Fees, bonus_cents: int) -> int:
    return fee_cents(bonus_cents, fees.bonus_rate, fees.minimum_cents)
