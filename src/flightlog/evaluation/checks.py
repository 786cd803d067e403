"""Threshold checks on a run's metrics (Evidently's "tests" idea):

    flightlog.check(["share_of_drifted_columns < 0.3", "accuracy_score > 0.9"])

A condition is `<metric> <op> <number>` with op one of < <= > >= == !=. The metric is looked up
as written, then as `drift/<name>` and `quality/<name>`, then as the one metric whose key ends
in `/<name>`. Each outcome is tagged on the run (`flightlog.check.<metric>.<op>.<number>` =
pass|fail) and `flightlog.check` holds the overall outcome of the call.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flightlog.evaluation.errors import (
    CheckMetricNotFoundError,
    ConditionSyntaxError,
    ModelValidationFailedError,
)

CHECK_TAG = "flightlog.check"
_OPS: dict[str, tuple[Any, str]] = {
    "<=": (operator.le, "le"),
    ">=": (operator.ge, "ge"),
    "==": (operator.eq, "eq"),
    "!=": (operator.ne, "ne"),
    "<": (operator.lt, "lt"),
    ">": (operator.gt, "gt"),
}
_CONDITION = re.compile(
    r"^\s*(?P<metric>[^<>=!]+?)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)"
    r"(?:[eE][-+]?\d+)?|[-+]?inf)\s*$"
)
_PREFIXES = ("", "drift/", "quality/")


@dataclass(frozen=True)
class Condition:
    text: str
    metric: str
    op: str
    value: float

    @property
    def tag_key(self) -> str:
        safe = re.sub(r"[^/\w.\-]", "_", self.metric)
        return f"{CHECK_TAG}.{safe}.{_OPS[self.op][1]}.{self.value:g}"


@dataclass(frozen=True)
class CheckResult:
    condition: str
    metric: str  # the metric key it was checked on
    value: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "metric": self.metric,
            "value": self.value,
            "passed": self.passed,
        }


@dataclass
class CheckSummary:
    results: list[CheckResult]
    run_id: str | None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __bool__(self) -> bool:
        return self.passed


def parse(text: str) -> Condition:
    if not isinstance(text, str):
        raise ConditionSyntaxError(f"A condition must be a string, got {type(text).__name__}")
    match = _CONDITION.match(text)
    if not match:
        raise ConditionSyntaxError(
            f"Cannot read condition {text!r}: write '<metric> <op> <number>', op one of "
            "< <= > >= == !=, e.g. 'share_of_drifted_columns < 0.3'"
        )
    return Condition(text.strip(), match["metric"].strip(), match["op"], float(match["value"]))


def resolve_metric(name: str, metrics: Mapping[str, float]) -> str:
    for prefix in _PREFIXES:
        if prefix + name in metrics:
            return prefix + name
    ending = [key for key in metrics if key.endswith("/" + name)]
    if len(ending) == 1:
        return ending[0]
    if len(ending) > 1:
        raise CheckMetricNotFoundError(
            f"Metric {name!r} is ambiguous: it could be {sorted(ending)}; write the full key"
        )
    raise CheckMetricNotFoundError(
        f"The run has no metric {name!r}"
        + (f" (it has {len(metrics)} metrics, e.g. {sorted(metrics)[:8]})" if metrics else "")
    )


def evaluate_conditions(
    conditions: Sequence[Condition], metrics: Mapping[str, float]
) -> list[CheckResult]:
    out = []
    for c in conditions:
        key = resolve_metric(c.metric, metrics)
        value = float(metrics[key])
        passed = (not math.isnan(value)) and bool(_OPS[c.op][0](value, c.value))
        out.append(CheckResult(c.text, key, value, passed))
    return out


def check(
    conditions: str | Sequence[str],
    run_id: str | None = None,
    *,
    metrics: Mapping[str, float] | None = None,
    log: bool = True,
    raise_on_failure: bool = False,
) -> CheckSummary:
    """Check conditions against a run's latest metrics (the given run, the active run, or the
    last one that ended in this process), or against `metrics` given directly. Outcomes are
    tagged on the run unless `log=False`."""
    from flightlog import fluent

    items = [conditions] if isinstance(conditions, str) else list(conditions)
    if not items:
        raise ConditionSyntaxError("check() needs at least one condition")
    parsed = [parse(text) for text in items]
    if metrics is None:
        if run_id is None:
            last = fluent.last_active_run()
            run_id = last.info.run_id if last is not None else None
        if run_id is None:
            raise CheckMetricNotFoundError("No run to check: pass run_id or start a run first")
        fluent.flush()
        metrics = fluent._client().get_run(run_id).data.metrics
    results = evaluate_conditions(parsed, metrics)
    summary = CheckSummary(results, run_id)
    if log and run_id is not None:
        from flightlog.evaluation.recording import set_tags_on_any_run

        tags = {
            c.tag_key: ("pass" if r.passed else "fail")
            for c, r in zip(parsed, results, strict=True)
        }
        tags[CHECK_TAG] = "pass" if summary.passed else "fail"
        set_tags_on_any_run(run_id, tags)
    if raise_on_failure and not summary.passed:
        raise ModelValidationFailedError(
            "Checks failed: "
            + "; ".join(f"{r.condition} ({r.metric} = {r.value:g})" for r in summary.failed)
        )
    return summary
