"""A restricted expression grammar for symbolic answers (`24*L*D^2`), building sympy objects directly.

Student text is never handed to `eval`, `sympify` or `parse_expr` (they execute code). This module has its
own tokenizer and a Pratt parser over exactly this grammar:

    expr    := expr ('+' | '-') expr | expr ('*' | '/') expr | '-' expr | '+' expr
             | expr ('^' | '**') expr          (right-associative, binds tighter than unary minus)
             | '(' expr ')' | NUMBER | NAME
    NUMBER  := 12 | 0.5 | .5 | 6e23 | 1.2E-3  (exact: 0.5 is the Rational 1/2)
    NAME    := a letter, then letters, digits or '_', and only from the allowed set (the key's symbols)

Nothing is implicit: `24LD^2` and `2(L+1)` are errors ("write * between factors"); there are no function
calls, attributes, indexing, strings or commas. `×`, `·` and `⋅` mean `*`; `−` (unicode minus) means `-`;
superscript digits are powers (`D²` is `D^2`).

Bounds, checked while parsing so nothing expensive is ever built: text length (MAX_LENGTH), nesting depth
(MAX_DEPTH), the size of a numeric power (|exponent| ≤ MAX_EXPONENT and at most MAX_BITS bits in the
result, so `9^9^9^9` is refused before anything is computed), and division by zero.

`equivalent(a, b)` decides symbolic equality. A fast screen first: both sides evaluated at fixed generic
rational points (40 digits) — any disagreement means "not equal". If they agree and a − b is a rational
function of low degree, `cancel(a − b) == 0` decides exactly; otherwise (fractional or symbolic exponents)
agreement at the generic points decides, the Schwartz–Zippel argument sympy's own `Expr.equals` relies on.

sympy is imported inside the functions (CLI start-up stays fast).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable

MAX_LENGTH = 500
MAX_DEPTH = 40
MAX_EXPONENT = 100
MAX_BITS = 8192
MAX_DENOMINATOR = 10**4
MAX_TOWER = 2
MAX_NUMBER_DIGITS = 40
MAX_E_EXPONENT = 400


class ExpressionError(ValueError):
    """Text that is not an expression of the restricted grammar; the message is for the student."""


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|[-+*/^()])
""", re.VERBOSE)

_SUPERSCRIPTS = re.compile("[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUBSTITUTIONS = {"×": "*", "·": "*", "⋅": "*", "∗": "*", "−": "-", "–": "-"}


@dataclass(frozen=True)
class _Token:
    kind: str  # number | name | op | end
    text: str
    pos: int


def tokenize(text: str) -> list[_Token]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})")
    for old, new in _SUBSTITUTIONS.items():
        text = text.replace(old, new)
    text = _SUPERSCRIPTS.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPT_DIGITS) + ")", text)
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1}; "
                                  "use numbers, the question's symbols, + - * / ^ and parentheses")
        kind = m.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, "^" if m.group() == "**" else m.group(), pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _number(text: str):
    import sympy

    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa.replace(".", "")) > MAX_NUMBER_DIGITS:
        raise ExpressionError(f"the number {text[:20]}… has too many digits")
    if exponent and abs(int(exponent)) > MAX_E_EXPONENT:
        raise ExpressionError(f"the number {text} is out of range")
    value = Fraction(mantissa) * Fraction(10) ** int(exponent or 0)
    return sympy.Rational(value.numerator, value.denominator)


def _is_bad(value) -> bool:
    import sympy

    return value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _power(base, exponent):
    """base^exponent, refusing powers whose size would be unbounded before sympy computes anything."""
    import sympy

    if exponent.is_Number:
        if not exponent.is_Rational:
            raise ExpressionError("exponents must be exact numbers or expressions")
        if abs(exponent) > MAX_EXPONENT or exponent.q > MAX_DENOMINATOR:
            raise ExpressionError(f"the exponent {exponent} is too large (at most {MAX_EXPONENT})")
        if base.is_Rational:
            bits = max(abs(base.p).bit_length(), base.q.bit_length()) * (abs(exponent.p) // exponent.q + 1)
            if bits > MAX_BITS:
                raise ExpressionError("a power in the expression is too large to evaluate")
            if base == 0 and exponent < 0:
                raise ExpressionError("division by zero")
    elif _tower(base) + _tower(exponent) >= MAX_TOWER:
        raise ExpressionError(f"powers with symbolic exponents nest at most {MAX_TOWER} deep")
    result = sympy.Pow(base, exponent)
    if _is_bad(result):
        raise ExpressionError("the expression divides by zero")
    return result


def _tower(expr) -> int:
    """Height of the tallest tower of powers with symbolic exponents in `expr`."""
    if not expr.args:
        return 0
    inner = max(_tower(a) for a in expr.args)
    return inner + 1 if expr.is_Pow and not expr.exp.is_Number else inner


class _Parser:
    # binding powers: (left, right)
    _INFIX = {"+": (10, 11), "-": (10, 11), "*": (20, 21), "/": (20, 21), "^": (30, 29)}
    _PREFIX = 25

    def __init__(self, tokens: list[_Token], symbols: dict[str, Any]):
        self.tokens, self.symbols, self.i, self.depth = tokens, symbols, 0, 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self):
        if self.peek().kind == "end":
            raise ExpressionError("the expression is empty")
        value = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {token.text!r} at position {token.pos + 1}")
        return value

    def expression(self, min_bp: int):
        import sympy

        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (at most {MAX_DEPTH} levels)")
        left = self.operand()
        while True:
            token = self.peek()
            if token.kind == "end" or token.text == ")":
                break
            if token.kind != "op" or token.text == "(":
                raise ExpressionError(f"missing operator before {token.text!r} at position {token.pos + 1} "
                                      "(write * between factors)")
            lbp, rbp = self._INFIX[token.text]
            if lbp < min_bp:
                break
            self.take()
            right = self.expression(rbp)
            if token.text == "+":
                left = sympy.Add(left, right)
            elif token.text == "-":
                left = sympy.Add(left, sympy.Mul(sympy.Integer(-1), right))
            elif token.text == "*":
                left = sympy.Mul(left, right)
            elif token.text == "/":
                if right == 0:
                    raise ExpressionError("division by zero")
                left = sympy.Mul(left, _power(right, sympy.Integer(-1)))
            else:
                left = _power(left, right)
            if _is_bad(left):
                raise ExpressionError("the expression divides by zero")
        self.depth -= 1
        return left

    def operand(self):
        import sympy

        token = self.take()
        if token.kind == "number":
            return _number(token.text)
        if token.kind == "name":
            if token.text not in self.symbols:
                raise ExpressionError(f"unknown symbol {token.text!r}" + _suggest(token.text, self.symbols))
            return self.symbols[token.text]
        if token.text == "(":
            if self.peek().text == ")":
                raise ExpressionError(f"empty parentheses at position {token.pos + 1}")
            inner = self.expression(0)
            closing = self.take()
            if closing.text != ")":
                raise ExpressionError(f"missing ')' for the '(' at position {token.pos + 1}")
            return inner
        if token.text in ("-", "+"):
            inner = self.expression(self._PREFIX)
            return sympy.Mul(sympy.Integer(-1), inner) if token.text == "-" else inner
        if token.kind == "end":
            raise ExpressionError("the expression ends too early")
        raise ExpressionError(f"unexpected {token.text!r} at position {token.pos + 1}")


def _suggest(name: str, symbols: Iterable[str]) -> str:
    known = sorted(symbols)
    close = [s for s in known if s.lower() == name.lower()]
    if close:
        return f" (did you mean {close[0]!r}? symbols are case-sensitive)"
    return f"; the symbols are {', '.join(known)}" if known else "; this expression has no symbols"


def names_in(text: str) -> tuple[str, ...]:
    """The identifiers in a (trusted) key expression, in order of first appearance."""
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token.kind == "name":
            seen.setdefault(token.text)
    return tuple(seen)


def symbol_table(names: Iterable[str]) -> dict[str, Any]:
    """sympy Symbols for the allowed names. Positive: they are sizes and counts (so sqrt(x^2) = x)."""
    import sympy

    return {n: sympy.Symbol(n, positive=True) for n in names}


def parse_expression(text: str, symbols: Iterable[str] | dict[str, Any]):
    """`text` as a sympy expression over the allowed `symbols` (names, or a name → Symbol table)."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    table = symbols if isinstance(symbols, dict) else symbol_table(symbols)
    return _Parser(tokenize(text), table).parse()


# ---- equivalence -----------------------------------------------------------------------------------

# Generic points: rationals with no small common structure, so a non-zero difference vanishing at all of
# them by accident is (Schwartz–Zippel) essentially impossible for the low-degree expressions allowed here.
_POINTS = ((Fraction(1361, 1000), Fraction(2719, 1000), Fraction(1733, 1000), Fraction(3137, 1000),
            Fraction(1187, 1000), Fraction(2293, 1000)),
           (Fraction(2903, 1000), Fraction(1451, 1000), Fraction(3319, 1000), Fraction(1069, 1000),
            Fraction(2477, 1000), Fraction(1621, 1000)),
           (Fraction(1777, 1000), Fraction(3011, 1000), Fraction(1283, 1000), Fraction(2659, 1000),
            Fraction(1913, 1000), Fraction(2141, 1000)))
_DIGITS = 40


def _point_value(expr, symbols: list, k: int):
    import sympy

    subs = {s: sympy.Rational(_POINTS[k][i % 6].numerator + 7 * (i // 6), _POINTS[k][i % 6].denominator)
            for i, s in enumerate(symbols)}
    value = expr.xreplace(subs)
    if _is_bad(value):
        return None
    value = value.evalf(_DIGITS)
    if not value.is_number or value.has(sympy.I) or _is_bad(value):
        return None
    return value


def _degree(expr) -> int:
    """An upper bound on the polynomial degree expand() would produce (a cost estimate)."""
    if expr.is_Symbol:
        return 1
    if expr.is_Number or not expr.args:
        return 0
    if expr.is_Pow:
        e = expr.exp
        return _degree(expr.base) * (abs(int(e.p)) if e.is_Rational else MAX_EXPONENT)
    if expr.is_Mul:
        return sum(_degree(a) for a in expr.args)
    return max(_degree(a) for a in expr.args)


def _positive(expr):
    import sympy

    return expr.xreplace({s: sympy.Symbol(s.name, positive=True) for s in expr.free_symbols
                          if s.is_positive is not True})


def equivalent(a, b) -> bool:
    """Whether two expressions are equal as functions of their (positive) symbols."""
    import sympy

    a, b = _positive(a), _positive(b)  # an expression built elsewhere (a verifier) may use plain Symbols
    diff = a - b
    if diff == 0:
        return True
    symbols = sorted(diff.free_symbols, key=lambda s: s.name)
    if diff.is_Rational:
        return False  # a non-zero exact constant
    if not symbols:
        value = _point_value(diff, [], 0)
        return value is not None and abs(value) <= sympy.Float(10) ** (-(_DIGITS - 10)) * max(
            1, abs(_point_value(a, [], 0) or 1))
    evaluated = 0
    for k in range(len(_POINTS)):
        va, vb = _point_value(a, symbols, k), _point_value(b, symbols, k)
        if va is None or vb is None:
            continue
        evaluated += 1
        scale = max(abs(va), abs(vb), 1)
        if abs(va - vb) > scale * sympy.Float(10) ** (-(_DIGITS - 10)):
            return False
    if _degree(diff) <= 24 and diff.is_rational_function(*symbols):
        return sympy.cancel(diff) == 0  # exact and cheap at this size: the authoritative answer
    return evaluated >= 2
