"""The result of a check_layer call: ok or the smallest failing configuration, what is wrong there, and why."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from .runner import Outcome


class LayerMismatch(AssertionError):
    """Raised by ``assert_layer`` (and ``LayerReport.raise_if_failed``): the message is the whole report."""


def _readable(cfg: dict, square: bool, fixed: frozenset) -> dict:
    """The configuration as reported: ints for square hyper-parameters, without the seed and the
    hyper-parameters your function does not take (they stay at the reference's defaults)."""
    out = {}
    for k, v in cfg.items():
        if k == "seed" or k in fixed:
            continue
        equal = isinstance(v, tuple) and len(v) == 2 and v[0] == v[1]
        out[k] = v[0] if isinstance(v, tuple) and (square or equal) and k != "sides" else v
    return out


@dataclass
class LayerReport:
    """What check_layer found. ``ok``; when not: ``config`` (the smallest failing configuration),
    ``wrong`` (the outputs that differ), ``differences`` (one line each, with the first differing
    element), ``diagnosis`` (sentences) and ``call`` (how your function was called)."""

    like: str
    ok: bool
    examples: int
    seconds: float
    config: dict | None = None
    call: str = ""
    wrong: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    checked: tuple[str, ...] = ()
    outcome: Outcome | None = None

    @staticmethod
    def passed(like: str, examples: int, seconds: float, checked: tuple[str, ...]) -> LayerReport:
        return LayerReport(like, True, examples, seconds, checked=checked)

    @staticmethod
    def failed(like: str, examples: int, seconds: float, checked: tuple[str, ...], outcome: Outcome, call: str,
               sentences: list[str], square: bool, fixed: frozenset = frozenset()) -> LayerReport:
        problems = [d.describe() for d in outcome.differences]
        if outcome.error is not None:
            problems.insert(0, outcome.error_line())
        problems += [f"{call} modifies its input {name}" for call, name in outcome.modified]
        problems += [f"{out} shares memory with the input {name}" for out, name in outcome.aliases]
        return LayerReport(like, False, examples, seconds, _readable(outcome.config, square, fixed), call,
                           outcome.wrong, problems, sentences, checked, outcome)

    @property
    def diagnosis(self) -> str:
        """The diagnosis as one paragraph ('' when ok)."""
        return " ".join(self.sentences)

    def raise_if_failed(self) -> None:
        """Raise ``LayerMismatch`` with this report when the layer failed (the pytest form)."""
        if not self.ok:
            raise LayerMismatch(str(self))

    def __bool__(self) -> bool:
        return self.ok

    def lines(self) -> list[str]:
        head = f"check_layer({self.like!r}): "
        if self.ok:
            return [head + f"OK, {' '.join(self.checked)} match the reference in {self.examples} configurations "
                    f"({self.seconds:.1f} s)"]
        cfg = ", ".join(f"{k}={v}" for k, v in (self.config or {}).items())
        out = [head + f"FAILED ({self.examples} configurations tried, {self.seconds:.1f} s)",
               f"smallest failing configuration: {cfg}", f"  called as {self.call}"]
        out += ["wrong:"] + [f"  {d}" for d in self.differences]
        out += ["diagnosis:"] + [f"  - {s}" for s in self.sentences]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        lines = self.lines()
        body = html.escape("\n".join(lines[1:]))
        return (f'<div style="font-family:monospace"><b style="color:{colour}">{html.escape(lines[0])}</b>'
                f'<pre style="white-space:pre-wrap;margin:4px 0">{body}</pre></div>')
