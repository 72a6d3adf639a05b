"""What a user's layer supports: each domain entry becomes the tuple of values the strategies draw from.

A value, a list of allowed values or an inclusive ``(low, high)`` range (a ``range`` works too); the
values are sorted so that hypothesis shrinks towards the smallest one. ``sides`` is special: an int is
a square input, an ``(H, W)`` pair a fixed size, a list or range the values each side is drawn from.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Domain", "LayerCheckError"]


class LayerCheckError(ValueError):
    """check_layer was called with arguments it cannot use (not a failure of the checked layer)."""


def _sort_key(v: Any) -> tuple:
    return (isinstance(v, str), v)


def _values(key: str, spec: Any) -> tuple:
    """The allowed values of one domain entry, sorted (ints first, then strings such as 'same')."""
    if isinstance(spec, range):
        vals = list(spec)
    elif isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                for v in spec):
        low, high = spec
        if low > high:
            raise LayerCheckError(f"check_layer: domain[{key!r}] range {spec} has low > high")
        vals = list(range(low, high + 1))
    elif isinstance(spec, (list, tuple, set, frozenset)):
        vals = list(spec)
    else:
        vals = [spec]
    if not vals:
        raise LayerCheckError(f"check_layer: domain[{key!r}] allows no value")
    for v in vals:
        if not isinstance(v, (int, str)):
            raise LayerCheckError(f"check_layer: domain[{key!r}] holds {v!r}; expected ints (or 'same'/'valid' "
                                  "for padding, True/False for flags)")
    return tuple(sorted(set(vals), key=_sort_key))


class Domain:
    """The parsed domain of one check: ``values(key)`` is the sorted tuple of allowed values.

    >>> d = Domain({"stride": [2, 1], "padding": (0, 2)}, {"stride": (1, 3), "padding": 0, "batch": (1, 3)})
    >>> d.values("stride"), d.values("padding"), d.values("batch")
    ((1, 2), (0, 1, 2), (1, 2, 3))
    """

    def __init__(self, user: dict | None, defaults: dict, aliases: dict | None = None) -> None:
        user = dict(user or {})
        for alias, key in (aliases or {}).items():
            if alias in user:
                user[key] = user.pop(alias)
        unknown = sorted(set(user) - set(defaults) - {"square", "sides"})
        if unknown:
            known = ", ".join(sorted(set(defaults) | {"square"}))
            raise LayerCheckError(f"check_layer: unknown domain key {unknown[0]!r}; this layer knows {known}")
        self.square = bool(user.pop("square", False))
        self.sides: Any = user.pop("sides", None)
        self._values = {k: _values(k, user.get(k, v)) for k, v in defaults.items() if k != "sides"}
        if "bias" in self._values:
            self._values["bias"] = _flags("bias", user.get("bias", defaults["bias"]))
        for flag in ("ties", "zeros", "ceil_mode", "count_include_pad"):
            if flag in self._values:
                self._values[flag] = _flags(flag, user.get(flag, defaults[flag]))

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def values(self, key: str) -> tuple:
        return self._values[key]

    def ints(self, key: str) -> tuple:
        return tuple(v for v in self._values[key] if isinstance(v, int))

    def fixed_sides(self) -> tuple[int, int] | None:
        """(H, W) when the domain fixes the input size."""
        s = self.sides
        if isinstance(s, int) and not isinstance(s, bool):
            return (s, s)
        if isinstance(s, tuple) and len(s) == 2 and all(isinstance(v, int) for v in s):
            return s
        return None

    def side_values(self) -> tuple | None:
        """The values each side may take when the domain lists them (a list or a range), else None."""
        s = self.sides
        if s is None or self.fixed_sides() is not None:
            return None
        if isinstance(s, (list, range, set, frozenset)) and s:
            return tuple(sorted(s))
        raise LayerCheckError(f"check_layer: domain['sides'] is {s!r}; expected an int, an (H, W) pair, "
                              "a list or a range")


def _flags(key: str, spec: Any) -> tuple:
    """True, False or both (the string 'both' or a list of both), False first so that it shrinks there."""
    if spec == "both":
        return (False, True)
    vals = spec if isinstance(spec, (list, tuple)) else [spec]
    if not vals or not all(isinstance(v, bool) for v in vals):
        raise LayerCheckError(f"check_layer: domain[{key!r}] must be True, False or 'both', got {spec!r}")
    return tuple(sorted(set(vals)))
