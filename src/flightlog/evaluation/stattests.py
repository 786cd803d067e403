"""Per-column drift tests, each on the non-missing values of one reference and one current
column. Every test returns a TestOutcome: `score` is what the drift decision compares with the
threshold (a p-value for the hypothesis tests, a distance otherwise).

The rules are Evidently's documented defaults (see drift_report.choose_test); the statistics
are scipy's own functions, so a test here and scipy on the same column agree exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TestOutcome:
    test: str  # short name: ks, chisquare, z, wasserstein, jensenshannon, psi
    score: float
    threshold: float
    drifted: bool
    statistic: float | None = None  # the raw statistic where score is a p-value


@dataclass(frozen=True)
class StatTest:
    name: str
    title: str
    kind: str  # "p_value": drift when score < threshold; "distance": drift when score >= it
    default_threshold: float
    run: Callable[[Any, Any], tuple[float, float | None]]

    def __call__(self, reference: Any, current: Any, threshold: float | None = None) -> TestOutcome:
        score, statistic = self.run(reference, current)
        return self.decide(score, statistic, threshold)

    def decide(self, score: float, statistic: float | None, threshold: float | None) -> TestOutcome:
        limit = self.default_threshold if threshold is None else float(threshold)
        drifted = score < limit if self.kind == "p_value" else score >= limit
        return TestOutcome(self.name, float(score), limit, bool(drifted), statistic)


def _ks(reference: Any, current: Any) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    result = ks_2samp(reference, current)
    return float(result.pvalue), float(result.statistic)


def category_counts(reference: Any, current: Any) -> tuple[list[Any], Any, Any]:
    """(categories, reference counts, current counts) over the union of both columns."""
    import numpy as np

    ref_values, ref_counts = np.unique(reference, return_counts=True)
    cur_values, cur_counts = np.unique(current, return_counts=True)
    keys = np.union1d(ref_values, cur_values)
    ref = np.zeros(len(keys))
    cur = np.zeros(len(keys))
    ref[np.searchsorted(keys, ref_values)] = ref_counts
    cur[np.searchsorted(keys, cur_values)] = cur_counts
    return list(keys), ref, cur


def _chisquare(reference: Any, current: Any) -> tuple[float, float]:
    """Current category counts against reference shares scaled to the current size."""
    import numpy as np
    from scipy.stats import chisquare

    _, ref, cur = category_counts(reference, current)
    expected = ref * (cur.sum() / ref.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.any((expected == 0) & (cur > 0)):
            # A category the reference never had: the distributions differ for certain.
            return 0.0, float("inf")
        keep = expected > 0
        result = chisquare(cur[keep], expected[keep])
    return float(result.pvalue), float(result.statistic)


def _z_proportions(reference: Any, current: Any) -> tuple[float, float]:
    """Two-proportion Z-test on the share of the first (sorted) value of a binary column."""
    import numpy as np
    from scipy.stats import norm

    keys = np.union1d(np.unique(reference), np.unique(current))
    if len(keys) <= 1:
        return 1.0, 0.0
    first = keys[0]
    n1, n2 = len(reference), len(current)
    p1 = float(np.sum(reference != first)) / n1
    p2 = float(np.sum(current != first)) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    if spread == 0:
        return 1.0, 0.0
    z = (p1 - p2) / spread
    return float(2 * (1 - norm.cdf(abs(z)))), float(z)


def _wasserstein(reference: Any, current: Any) -> tuple[float, None]:
    """Wasserstein distance in units of the reference's standard deviation."""
    import numpy as np
    from scipy.stats import wasserstein_distance

    spread = max(float(np.std(reference)), 0.001)
    return float(wasserstein_distance(reference, current)) / spread, None


def shares(reference: Any, current: Any, numeric: bool, bins: int = 30) -> tuple[Any, Any]:
    """Binned shares of both columns, zeros replaced by a small share so logs and ratios stay
    finite (numeric: equal-width bins over both columns' range; categorical: categories)."""
    import numpy as np

    if numeric:
        edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins=bins)
        ref = np.histogram(reference, edges)[0] / len(reference)
        cur = np.histogram(current, edges)[0] / len(current)
    else:
        _, ref_counts, cur_counts = category_counts(reference, current)
        ref = ref_counts / len(reference)
        cur = cur_counts / len(current)
    ref = np.where(ref == 0, 0.0001, ref)
    cur = np.where(cur == 0, 0.0001, cur)
    return ref, cur


def _jensenshannon_for(numeric: bool) -> Callable[[Any, Any], tuple[float, None]]:
    def run(reference: Any, current: Any) -> tuple[float, None]:
        from scipy.spatial.distance import jensenshannon

        ref, cur = shares(reference, current, numeric)
        return float(jensenshannon(ref, cur)), None

    return run


def _psi_for(numeric: bool) -> Callable[[Any, Any], tuple[float, None]]:
    def run(reference: Any, current: Any) -> tuple[float, None]:
        import numpy as np

        ref, cur = shares(reference, current, numeric)
        return float(np.sum((ref - cur) * np.log(ref / cur))), None

    return run


KS = StatTest("ks", "K-S p_value", "p_value", 0.05, _ks)
CHISQUARE = StatTest("chisquare", "chi-square p_value", "p_value", 0.05, _chisquare)
Z = StatTest("z", "Z-test p_value", "p_value", 0.05, _z_proportions)
WASSERSTEIN = StatTest(
    "wasserstein", "Wasserstein distance (normed)", "distance", 0.1, _wasserstein
)


def by_name(name: str, numeric: bool) -> StatTest:
    """A test by its short name; the binned ones depend on the column type."""
    from flightlog.evaluation.errors import EvaluationInputError

    if name == "jensenshannon":
        return StatTest(
            name, "Jensen-Shannon distance", "distance", 0.1, _jensenshannon_for(numeric)
        )
    if name == "psi":
        return StatTest(name, "PSI", "distance", 0.1, _psi_for(numeric))
    fixed = {t.name: t for t in (KS, CHISQUARE, Z, WASSERSTEIN)}
    if name not in fixed:
        raise EvaluationInputError(
            f"Unknown drift test {name!r}; choose from {sorted([*fixed, 'jensenshannon', 'psi'])}"
        )
    if name in ("ks", "wasserstein") and not numeric:
        raise EvaluationInputError(f"The {name!r} test needs a numeric column")
    return fixed[name]


TEST_NAMES = ("ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi")
