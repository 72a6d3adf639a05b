"""Run the registry's derivative checks per op and tabulate them (``tinygrad-cnn gradcheck``).

Each cell counts the hypothesis examples that passed one kind of check:

- gradient: :func:`gradcheck`, the full Jacobian against central differences (float64);
- second order: :func:`gradgradcheck`;
- third order: :func:`check_grads` with ``order=3`` in both modes (JVPs of orders 1 to 3 against
  central differences, VJPs against JVPs);
- JVP: :func:`check_grads` with ``order=1`` in float64, and the VJP/JVP identity in float32.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from .check_grads import check_grads
from .gradcheck import gradcheck, gradgradcheck
from .opinfo import OPS

__all__ = ["CHECKS", "OpReport", "verify_ops", "markdown_table", "as_float32"]


def as_float32(fn: Callable, inputs: tuple) -> tuple[Callable, tuple]:
    """The same call with the differentiated inputs in float32."""
    return fn, tuple(Tensor(x._data.astype(np.float32), requires_grad=True) for x in inputs)


def _jvp(fn: Callable, inputs: tuple) -> None:
    check_grads(fn, inputs, order=1)
    f32, in32 = as_float32(fn, inputs)
    check_grads(f32, in32, order=1, modes=("rev",))


CHECKS: dict[str, Callable[[Callable, tuple], Any]] = {
    "gradient": gradcheck,
    "second order": gradgradcheck,
    "third order": lambda fn, inputs: check_grads(fn, inputs, order=3),
    "JVP": _jvp,
}


@dataclass
class OpReport:
    """What :func:`verify_ops` found for one op: examples passed per check, the first failure."""

    name: str
    passed: dict[str, int] = field(default_factory=dict)
    failure: str = ""
    seconds: float = 0.0


def verify_ops(names: list[str], examples: int, checks: list[str]) -> list[OpReport]:
    """Run ``checks`` (keys of :data:`CHECKS`) on ``examples`` hypothesis examples of each op."""
    reports = []
    for name in names:
        info = OPS[name]
        report = OpReport(name, {c: 0 for c in checks})
        t0 = time.perf_counter()
        for check in checks:
            try:
                _run_check(info, check, examples, report)
            except Exception as e:  # a failed check goes in the report; the other checks still run
                report.failure = report.failure or f"{check}: {str(e).splitlines()[0][:160]}"
                report.passed[check] = -1
        report.seconds = time.perf_counter() - t0
        reports.append(report)
    return reports


def _run_check(info: Any, check: str, examples: int, report: OpReport) -> None:
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(info.strategy())
    def run(sample: Any) -> None:
        fn, inputs = info.bind(sample)
        CHECKS[check](fn, inputs)
        report.passed[check] += 1

    run()


def markdown_table(reports: list[OpReport], checks: list[str]) -> str:
    """One row per op, one column per check: examples passed, or FAIL."""
    lines = ["| op | " + " | ".join(checks) + " |", "|---|" + "---|" * len(checks)]
    for r in reports:
        cells = ["FAIL" if r.passed[c] < 0 else str(r.passed[c]) for c in checks]
        lines.append(f"| `{r.name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
