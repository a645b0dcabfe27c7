"""Reading a user's own givens (`exgen solve --given name=value`, `--givens FILE`) by their documented kind.

Values are parsed by kind, with json/yaml's data parsers and our own matrix syntax — never evaluated.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from exgen.topics.base import Given, InvalidGivens, Variant


MAX_GIVENS_BYTES = 1024 * 1024
MAX_ENTRIES = 10_000  # of a matrix or vector given that declares no max_size of its own


def _load_yaml(text: str) -> Any:
    """YAML's (and so JSON's) plain data, without aliases: a 'billion laughs' file would expand unbounded."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=loader)):
        raise ValueError("YAML aliases (*name) are not allowed in a givens file")
    return yaml.load(text, Loader=loader)


def _number(name: str, text: str) -> float | int:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise InvalidGivens(f"{name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidGivens(f"{name}: {text!r} is not a finite number")
    return int(value) if value.is_integer() and "." not in text and abs(value) < 2**63 else value


def _matrix(name: str, text: str) -> list[list[float]]:
    """'2.09,-0.98;0.05,-0.14' (rows by ';', entries by ',' or spaces) or JSON '[[2.09, -0.98], …]'."""
    text = text.strip()
    if text.startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidGivens(f"{name}: not a JSON matrix ({e.msg})") from None
    else:
        rows = [[cell for cell in row.replace(",", " ").split()] for row in text.split(";") if row.strip()]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) and r for r in rows):
        raise InvalidGivens(f"{name}: expected a matrix such as '1.5,-0.2;0.3,2'")
    return [[float(_number(name, str(v))) for v in row] for row in rows]


def _bounded(given: Given, value: Any) -> Any:
    """The value, if it lies within the given's declared bounds (numbers, and every entry of a matrix);
    without a declared max_size, a matrix or vector still has at most MAX_ENTRIES entries."""
    entries = [e for row in value for e in row] if given.kind == "matrix" else \
        list(value) if given.kind == "vector" else [value] if given.kind in ("number", "integer") else []
    size = given.max_size if given.max_size is not None else MAX_ENTRIES if given.kind in ("matrix", "vector") \
        else None
    if size is not None and (len(entries) if entries else len(str(value))) > size:
        raise InvalidGivens(f"{given.name}: at most {size} {'entries' if entries else 'characters'}")
    for entry in entries:
        if given.low is not None and entry < given.low or given.high is not None and entry > given.high:
            raise InvalidGivens(f"{given.name}: {_num(entry)} is outside {_range(given)}")
    return value


def _num(x: float) -> str:
    """A bound or a value to 12 figures: 2147483648 stays itself beside the bound 2147483647 (':g' made both
    2.14748e+09, so the message read as if the value were inside)."""
    return f"{x:.12g}"


def _range(given: Given) -> str:
    if given.low is not None and given.high is not None:
        return f"[{_num(given.low)}, {_num(given.high)}]"
    return f">= {_num(given.low)}" if given.low is not None else f"<= {_num(given.high)}"


def coerce(given: Given, value: Any) -> Any:
    """One value (text from the command line, or data from a file) as the given's kind, within its bounds."""
    if given.default is not None and value == given.default:
        return copy.deepcopy(value)  # the declared default (e.g. an empty seed list) is valid as it stands
    read = _coerce_kind(given, value)
    if given.default is not None and read == given.default and type(read) is type(given.default):
        return read  # the default typed out: budget_gb=0 for "not asked", outside the bounds of an asked value
    return _bounded(given, read)


def check(variant: Variant, givens: dict[str, Any]) -> None:
    """Raise InvalidGivens if a required given is missing or a given's value is one `coerce` refuses (out of its
    bounds, not of its kind): what a solver called directly checks, so it is as safe as `exgen solve`.  A value
    already of its kind and in bounds (every sampled given) is told apart without parsing (issue 12)."""
    variant.require(givens)
    for given in variant.givens:
        if given.name in givens:
            value = givens[given.name]
            if given.kind == "choice":
                if value not in given.choices:  # coerce reads a choice as text: 8 for "8"
                    coerce(given, value)
            elif not _plainly_valid(given, value):
                coerce(given, value)


def _finite_number(v: Any) -> bool:
    t = type(v)
    return (t is float and v - v == 0) or (t is int and -2**53 < v < 2**53)


def _plainly_valid(given: Given, value: Any) -> bool:
    """Whether `coerce(given, value)` certainly accepts `value` as it stands (a matrix or vector of finite
    numbers, a number, within the declared bounds and size), told without parsing any text; anything else
    (text, a bool, a value out of bounds) is for coerce, which names what is wrong."""
    kind, low, high = given.kind, given.low, given.high
    if kind == "matrix":
        if type(value) is not list or not value:
            return False
        width = None
        entries = []
        for row in value:
            if type(row) is not list or not row or (width is not None and len(row) != width):
                return False
            width = len(row)
            entries.extend(row)
        size = given.max_size if given.max_size is not None else MAX_ENTRIES
    elif kind == "vector":
        if type(value) is not list or not value:
            return False
        entries = value
        size = given.max_size if given.max_size is not None else MAX_ENTRIES
    elif kind in ("number", "integer"):
        if not _finite_number(value):
            return False
        if kind == "integer":
            if not float(value).is_integer():
                return False
            if given.choices and str(int(value)) not in given.choices:
                return False
        elif given.choices:
            return False
        entries, size = [value], given.max_size
    else:
        return False
    if size is not None and len(entries) > size:
        return False
    if all(type(v) is float for v in entries):  # a sum that is finite has every entry finite (no inf, no nan)
        total = sum(entries)
        return total - total == 0 and (low is None or min(entries) >= low) and (high is None or max(entries) <= high)
    for v in entries:
        if not _finite_number(v) or (low is not None and v < low) or (high is not None and v > high):
            return False
    return True


def _coerce_kind(given: Given, value: Any) -> Any:
    if given.kind == "matrix":
        rows = _matrix(given.name, value if isinstance(value, str) else json.dumps(value))
        if len({len(row) for row in rows}) != 1:
            raise InvalidGivens(f"{given.name}: every row of a matrix has the same number of entries")
        return rows
    if given.kind == "vector":
        return _matrix(given.name, value if isinstance(value, str) else json.dumps([value]))[0]
    if given.kind in ("number", "integer"):
        number = _number(given.name, str(value))
        if given.kind == "integer":
            if not float(number).is_integer():
                raise InvalidGivens(f"{given.name}: {value!r} is not an integer")
            number = int(number)
        if given.choices and str(number) not in given.choices:
            raise InvalidGivens(f"{given.name}: {value!r} is not one of {', '.join(given.choices)}")
        return number
    if given.kind == "choice":
        if str(value) not in given.choices:
            raise InvalidGivens(f"{given.name}: {value!r} is not one of {', '.join(given.choices)}")
        return str(value)
    return value


def collect(variant: Variant, pairs: tuple[str, ...], file: Path | None) -> dict[str, Any]:
    """Givens from a JSON/YAML file and/or name=value pairs (pairs win), checked against the variant."""
    raw: dict[str, Any] = {}
    if file is not None:
        import yaml  # YAML is a superset of JSON; safe_load builds plain data only

        from exgen.files import read_regular

        try:
            text = read_regular(Path(file), MAX_GIVENS_BYTES, what="givens file").decode("utf-8")
            loaded = _load_yaml(text)
        except OSError as e:
            raise InvalidGivens(f"cannot read givens file {file}: {e.strerror or e}") from None
        except (UnicodeDecodeError, yaml.YAMLError, RecursionError, ValueError) as e:
            raise InvalidGivens(f"cannot read givens file {file}: {str(e).splitlines()[0] if str(e) else e}") \
                from None
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise InvalidGivens(f"{file}: expected a mapping of given names (text) to values")
        raw.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidGivens(f"--given {pair!r}: expected name=value")
        raw[name.strip()] = value.strip()
    specs = {g.name: g for g in variant.givens}
    unknown = sorted(set(raw) - set(specs))
    if unknown:
        raise InvalidGivens(f"unknown given(s) {', '.join(unknown)}; {variant.name} takes {', '.join(specs)}")
    givens = variant.complete({name: coerce(specs[name], value) for name, value in raw.items()})
    variant.require(givens)
    return givens
