"""A/B arithmetic: the two-proportion z-test of two conversion rates.

Pure functions (no database). A winner is named only when the difference is
significant at `alpha` (two-sided) and each group is large enough for the normal
approximation (at least 5 expected conversions and 5 expected non-conversions
in each, under the pooled rate); otherwise the answer says there is no winner yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_EXPECTED = 5


@dataclass(frozen=True)
class Arm:
    visitors: int
    conversions: int

    @property
    def rate(self) -> float:
        return self.conversions / self.visitors if self.visitors else 0.0


@dataclass(frozen=True)
class ZTest:
    a: Arm
    b: Arm
    difference: float  # rate of b minus rate of a
    z: float
    p_value: float
    ci_low: float  # 95 % interval of the difference (unpooled)
    ci_high: float
    alpha: float
    enough_data: bool
    significant: bool
    winner: str | None  # "a", "b" or None


def _normal_sf2(z: float) -> float:
    """Two-sided tail probability of a standard normal beyond |z|."""
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion_z_test(a: Arm, b: Arm, *, alpha: float = 0.05) -> ZTest:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1.")
    for arm in (a, b):
        if arm.visitors < 0 or not 0 <= arm.conversions <= arm.visitors:
            raise ValueError("Conversions must be between 0 and the number of visitors.")
    difference = b.rate - a.rate
    n = a.visitors + b.visitors
    if not a.visitors or not b.visitors:
        return ZTest(a, b, difference, 0.0, 1.0, 0.0, 0.0, alpha, False, False, None)
    pooled = (a.conversions + b.conversions) / n
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.visitors + 1 / b.visitors))
    z = difference / se if se else 0.0
    p_value = _normal_sf2(z) if se else 1.0
    spread = math.sqrt(a.rate * (1 - a.rate) / a.visitors + b.rate * (1 - b.rate) / b.visitors)
    enough = all(
        arm.visitors * pooled >= MIN_EXPECTED and arm.visitors * (1 - pooled) >= MIN_EXPECTED for arm in (a, b)
    )
    significant = enough and p_value < alpha
    winner = ("b" if difference > 0 else "a") if significant else None
    return ZTest(
        a=a, b=b, difference=difference, z=z, p_value=p_value, ci_low=difference - 1.959964 * spread,
        ci_high=difference + 1.959964 * spread, alpha=alpha, enough_data=enough, significant=significant,
        winner=winner,
    )  # fmt: skip
