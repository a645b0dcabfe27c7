"""Number formats: bit layouts of FP32, FP16, BF16, FP8 (E4M3, E5M2) and FP4 (E2M1); bias, range and precision;
the value of a bit pattern; the nearest representable value of a number and its rounding error; overflow,
underflow and per-tensor power-of-two scaling.

Formulas and their sources:
    layout             1 sign bit, E exponent bits, M mantissa (fraction) bits; bias = 2^(E-1) - 1 (IEEE 754-2019;
                       seed 003)
    values             exponent field e = 0: (-1)^s x 0.f x 2^(1 - bias) (subnormal); otherwise
                       (-1)^s x 1.f x 2^(e - bias)
    special codes      IEEE-style (FP32, FP16, BF16, E5M2, and the "custom" formats): the all-ones exponent
                       field is reserved for infinities and NaNs.  E4M3 (OCP 8-bit floating point spec;
                       Micikevicius et al. 2022, "FP8 formats for deep learning") has no infinities and only the
                       all-ones code is NaN, so its largest finite value is 1.75 x 2^8 = 448; E5M2's is
                       1.75 x 2^15 = 57344.  E2M1 (OCP Microscaling Formats (MX) v1.0) has no special codes:
                       its largest value is 1.5 x 2^2 = 6.
    machine epsilon    the gap between 1 and the next larger representable number, 2^-M (torch.finfo's eps)
    rounding           round to nearest, ties to even; the spacing of representable numbers around x is
                       2^(floor(log2|x|) - M) for normal x and 2^(1 - bias - M) below the smallest normal
    overflow/underflow a magnitude above the largest finite value overflows; after rounding to nearest a value
                       below half the smallest subnormal becomes 0 (underflow); per-tensor scaling multiplies a
                       tensor by 2^k, the largest k with amax x 2^k <= the largest finite value (FP8 training
                       recipes, e.g. Micikevicius et al. 2022, Section 4.3)
Exact arithmetic (Fractions) throughout; sampled numbers keep away from rounding ties and class boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant, each


@dataclass(frozen=True)
class Format:
    name: str
    exp_bits: int
    man_bits: int
    special: str  # "ieee": all-ones exponent reserved; "fn": only the all-ones code is NaN; "none": no specials

    @cached_property
    def bias(self) -> int:
        return 2 ** (self.exp_bits - 1) - 1

    @cached_property
    def bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @cached_property
    def max_exp_field(self) -> int:
        """The largest exponent field of a finite number."""
        return 2**self.exp_bits - (2 if self.special == "ieee" else 1)

    @cached_property
    def max(self) -> Fraction:
        top = 2**self.man_bits - (2 if self.special == "fn" else 1)  # E4M3: S.1111.111 is NaN
        return (1 + Fraction(top, 2**self.man_bits)) * _two_to(self.max_exp_field - self.bias)

    @cached_property
    def min_normal(self) -> Fraction:
        return _two_to(1 - self.bias)

    @cached_property
    def min_subnormal(self) -> Fraction:
        return _two_to(1 - self.bias - self.man_bits)

    @cached_property
    def epsilon(self) -> Fraction:
        return Fraction(1, 2**self.man_bits)

    def spacing(self, x: Fraction) -> Fraction:
        """The gap between consecutive representable numbers around |x| (x not itself a power of two's edge)."""
        a = abs(x)
        if a < self.min_normal:
            return self.min_subnormal
        return _two_to(_floor_log2(a) - self.man_bits)

    def nearest(self, x: Fraction, mode: str = "even") -> Fraction:
        """x rounded to this format (ties to even; mode "truncate" rounds toward zero). May exceed max."""
        q = self.spacing(x)
        n = x / q
        k = round(n) if mode == "even" else math.trunc(n)
        return k * q

    def decode(self, code: str) -> Fraction | None:
        """The value of a bit string (sign, exponent, mantissa); None for an infinity or NaN. The last one is
        kept: the sampler, the check and the solver of a draw decode the same pattern."""
        global _last_decoded
        last = _last_decoded  # a tuple replaced whole, so a thread reads a consistent one
        if last[0] is self and last[1] == code:
            return last[2]
        value = self._decode(code)
        _last_decoded = (self, code, value)
        return value

    def _decode(self, code: str) -> Fraction | None:
        s, e, f = int(code[0]), int(code[1:1 + self.exp_bits], 2), int(code[1 + self.exp_bits:], 2)
        if self.special == "ieee" and e == 2**self.exp_bits - 1:
            return None
        if self.special == "fn" and e == 2**self.exp_bits - 1 and f == 2**self.man_bits - 1:
            return None
        sign = -1 if s else 1
        if e == 0:
            return sign * Fraction(f, 2**self.man_bits) * self.min_normal
        return sign * (1 + Fraction(f, 2**self.man_bits)) * _two_to(e - self.bias)


_POWERS_OF_TWO: dict[int, Fraction] = {}
_last_decoded: tuple[Any, Any, Any] = (None, None, None)  # format, bit string, value


def _two_to(k: int) -> Fraction:
    """2^k as a Fraction, built once per exponent (the formats' bounds and spacings take a few dozen)."""
    power = _POWERS_OF_TWO.get(k)
    if power is None:
        power = _POWERS_OF_TWO[k] = Fraction(2) ** k
    return power


def _floor_log2(a: Fraction) -> int:
    """floor(log2 a) of a positive Fraction, exactly, in integers: 2^e <= a < 2^(e+1)."""
    return _floor_log2_ratio(a.numerator, a.denominator)


def _floor_log2_ratio(p: int, q: int) -> int:
    """floor(log2 (p/q)) of positive integers p, q."""
    e = p.bit_length() - q.bit_length()  # 2^(e-1) < p/q < 2^(e+1)
    if (q << e if e >= 0 else q) > (p if e >= 0 else p << -e):
        e -= 1
    return e


FORMATS = {
    "fp32": Format("FP32", 8, 23, "ieee"),
    "fp16": Format("FP16", 5, 10, "ieee"),
    "bf16": Format("BF16", 8, 7, "ieee"),
    "fp8_e4m3": Format("FP8 E4M3", 4, 3, "fn"),
    "fp8_e5m2": Format("FP8 E5M2", 5, 2, "ieee"),
    "fp4_e2m1": Format("FP4 E2M1", 2, 1, "none"),
}
SIG = 4





_CUSTOM: dict[tuple[int, int], Format] = {}


def fmt_of(g: dict[str, Any]) -> Format:
    if g["format"] == "custom":
        e, m = g["exp_bits"], g["man_bits"]
        if type(e) is int and type(m) is int:  # a sampled custom format: one Format (and its bounds) per size
            f = _CUSTOM.get((e, m))
            if f is None:
                f = _CUSTOM[e, m] = Format(f"E{e}M{m}", e, m, "ieee")
            return f
        return Format(f"E{e}M{m}", int(e), int(m), "ieee")
    return FORMATS[g["format"]]


# ---- givens ----------------------------------------------------------------------------------------

_FORMAT = Given("format", "the number format (custom: IEEE-style with exp_bits and man_bits)", "choice",
                choices=tuple(FORMATS) + ("custom",))
_EXP = Given("exp_bits", "exponent bits of a custom format", "integer", default=0, low=2, high=11)
_MAN = Given("man_bits", "mantissa bits of a custom format", "integer", default=0, low=1, high=23)

# Beyond fp32's and bf16's largest finite values (about 3.4e38), which the sampler goes up to: a number the
# format cannot hold is refused by the check, not by the bound.
_X_BOUND = 1e39

VARIANTS = (
    Variant("layout", "exponent bias, largest finite, smallest normal and subnormal, machine epsilon, and the "
            "value of a bit pattern", (_FORMAT, _EXP, _MAN, Given(
                "bits", "the bit pattern, sign first (a quoted string of 0s and 1s)", "text", max_size=35))),
    Variant("nearest", "the nearest representable value of a number, the spacing there, and the relative "
            "rounding error", (_FORMAT, _EXP, _MAN, Given("x", "the number to round", "number", low=-_X_BOUND,
                                                           high=_X_BOUND))),
    Variant("range", "overflow and underflow when a tensor is cast, and per-tensor power-of-two scaling", (
        _FORMAT, _EXP, _MAN,
        Given("amax", "the largest magnitude in the tensor", "number", low=1e-50, high=1e50),
        Given("amin", "the smallest nonzero magnitude in the tensor", "number", low=1e-50, high=1e50))),
)


_VARIANT = {v.name: v for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> Format:
    check(_VARIANT[variant], g)  # the givens' declared kinds and bounds; what follows, no single given's bounds say
    if g["format"] == "custom" and not (2 <= int(g["exp_bits"]) <= 11 and 1 <= int(g["man_bits"]) <= 23):
        raise InvalidGivens("a custom format needs exp_bits in [2, 11] and man_bits in [1, 23]")
    f = fmt_of(g)
    if variant == "layout":
        bits = str(g["bits"]).replace(" ", "").replace("_", "")
        if len(bits) != f.bits or set(bits) - {"0", "1"}:
            raise InvalidGivens(f"bits must be {f.bits} digits 0 or 1 for {f.name}")
        value = f.decode(bits)
        if value is None or value == 0:
            raise InvalidGivens("the bit pattern is an infinity, a NaN or zero: ask for a finite nonzero value")
    if variant == "nearest":
        x = _f(g["x"])
        if x == 0 or abs(nearest := f.nearest(x)) > f.max or nearest == 0:
            raise InvalidGivens("x must be nonzero and round to a finite nonzero value of the format")
        if abs(x) > f.max:  # no two consecutive representable numbers lie around it: the spacing is undefined
            exact = f.max.numerator if f.max.denominator == 1 else float(f.max)  # all the digits: a shortest
            # float repr (3.4028234663852886e38, as torch prints fp32's max) lies above the exact maximum
            raise InvalidGivens(f"|x| must be at most the largest finite value of {f.name}, {exact} (about "
                                f"{float(f.max):g}): above it no two representable numbers enclose x")
    if variant == "range" and not 0 < _f(g["amin"]) <= _f(g["amax"]):
        raise InvalidGivens("need 0 < amin <= amax")
    return f


# ---- solvers ---------------------------------------------------------------------------------------


def _log2(x: Fraction) -> int:
    """k for an exact power of two 2^k."""
    k = round(math.log2(x))
    assert _two_to(k) == x
    return k


def _pow2(x: Fraction) -> str:
    """An exact power of two as 2^k."""
    k = round(math.log2(x))
    return rf"2^{{{k}}}"


def _given(x: Any) -> str:
    """A given number exactly as typed (shortest round-trip digits), in LaTeX: 1.2645 \\times 10^{20}."""
    text = repr(float(x))
    if "e" not in text and (abs(float(x)) >= 1e6 or 0 < abs(float(x)) < 1e-4):  # 69365000000000.0: 6.9365e+13
        text = format(Decimal(text).normalize(), "e")
    if "e" not in text:
        return nf.num(x)
    mantissa, exponent = text.split("e")
    return rf"{mantissa.removesuffix('.0')} \times 10^{{{int(exponent)}}}"


def _num(x: Fraction, figures: int = 7) -> str:
    return nf.sig(x, figures)


@lru_cache(maxsize=None)
def _layout_steps(f: Format) -> tuple[Step, ...]:
    """What every layout and range solution starts with: the same for every instance of a format."""
    return (
        Step(f"{f.name} has 1 sign bit, {f.exp_bits} exponent {nf.plural(f.exp_bits, 'bit')} and {f.man_bits} "
             f"mantissa {nf.plural(f.man_bits, 'bit')}; the bias is",
             rf"2^{{{f.exp_bits} - 1}} - 1 = {f.bias}"),
        Step("The largest finite value: " + {
            "ieee": "the all-ones exponent is reserved for infinities and NaNs, so the largest exponent field is "
                    f"${f.max_exp_field}$ and the mantissa is all ones:",
            "fn": "only the all-ones code is NaN (no infinities), so the all-ones exponent holds numbers and the "
                  "largest mantissa below all-ones is used:",
            "none": "there are no special codes, so the all-ones exponent and mantissa are a number:"}[f.special],
             rf"{nf.sig(f.max / _two_to(f.max_exp_field - f.bias), 10)} \times 2^{{{f.max_exp_field} - "
             rf"{f.bias}}} = {_num(f.max)}"),
        Step("The smallest normal number has exponent field 1 and mantissa 0; the smallest subnormal has exponent "
             "field 0 and mantissa 0...01:",
             rf"1 - {f.bias} = {1 - f.bias}:\ 2^{{{1 - f.bias}}} = {_num(f.min_normal)}, \qquad "
             rf"1 - {f.bias} - {f.man_bits} = {1 - f.bias - f.man_bits}:\ 2^{{{1 - f.bias - f.man_bits}}} = "
             rf"{_num(f.min_subnormal)}"),
        Step("Machine epsilon, the gap between 1 and the next representable number, and its exponent:",
             rf"\epsilon = 2^{{-{f.man_bits}}} = {_num(f.epsilon)}, \qquad \log_2 {_num(f.epsilon)} = "
             rf"{-f.man_bits}"),
    )


def _number(value: Fraction, sig: int = SIG) -> Answer:
    return Answer("number", float(value), sig=sig)


def _solve_layout(g: dict[str, Any], f: Format) -> Solution:
    bits = str(g["bits"]).replace(" ", "").replace("_", "")
    s, e, m = bits[0], bits[1:1 + f.exp_bits], bits[1 + f.exp_bits:]
    value = f.decode(bits)
    ev, mv = int(e, 2), int(m, 2)
    sign = "-" if s == "1" else ""
    if ev == 0:
        decode = (rf"{sign}\frac{{{mv}}}{{2^{{{f.man_bits}}}}} \times 2^{{1 - {f.bias}}}")
        kind = "The exponent field is 0: a subnormal number, 0.f times the smallest normal's power"
    else:
        decode = rf"{sign}\left(1 + \frac{{{mv}}}{{2^{{{f.man_bits}}}}}\right) \times 2^{{{ev} - {f.bias}}}"
        kind = f"The exponent field is {e} $= {ev}$ and the mantissa {m} $= {mv}$: a normal number"
    def steps() -> list[Step]:
        return [*_layout_steps(f), Step(f"Split the pattern: sign {s}, exponent {e}, mantissa {m}. {kind}:",
                                        rf"{decode} = {_num(value, 10)}")]
    return Solution((Part("bias", "exponent bias", Answer("integer", f.bias)),
                     Part("max", "largest finite value", _number(f.max)),
                     Part("min_normal_exp", "exponent of the smallest normal", Answer("integer", _log2(f.min_normal))),
                     Part("min_subnormal_exp", "exponent of the smallest subnormal",
                          Answer("integer", _log2(f.min_subnormal))),
                     Part("epsilon_exp", "exponent of machine epsilon", Answer("integer", _log2(f.epsilon))),
                     Part("value", "value of the bit pattern", _number(value, 6))), steps)


def _solve_nearest(g: dict[str, Any], f: Format) -> Solution:
    x = _f(g["x"])
    q = f.spacing(x)
    y = f.nearest(x)
    rel = abs(y - x) / abs(x)

    def steps() -> tuple[Step, ...]:
        if abs(x) < f.min_normal:
            where = (f"$|x| < {_num(f.min_normal)}$, the smallest normal: in the subnormal range the spacing is "
                     "the smallest subnormal,", rf"2^{{1 - {f.bias} - {f.man_bits}}} = {_num(q)}")
        else:
            e = round(math.log2(q)) + f.man_bits
            where = (f"${_pow2(_two_to(e))} \\le |x| < 2^{{{e + 1}}}$, so the spacing of {f.name} numbers "
                     f"there is", rf"2^{{{e} - {f.man_bits}}} = {_num(q)}")
        n = x / q
        return (Step(where[0], where[1]),
                Step("Count spacings and round to the nearest whole number (ties to even):",
                     rf"\frac{{{_given(g['x'])}}}{{{_num(q)}}} = {nf.sig(n, 8)} \to {round(n)}, \qquad {round(n)} "
                     rf"\times {_num(q)} = {_num(y, 10)}"),
                Step("The relative rounding error:", rf"\frac{{|{_num(y, 10)} - {nf.signed(_given(g['x']))}|}}"
                     rf"{{|{_given(g['x'])}|}} = {nf.sig(rel, 6)}"))
    return Solution((Part("spacing", "spacing around x", _number(q)),
                     Part("nearest", "nearest representable value", _number(y, 6)),
                     Part("rel_error", "relative rounding error",
                          _number(rel, 3) if rel else Answer("number", 0.0, decimals=6))), steps)


YES_NO = ("yes", "no")
CLASSES = ("normal", "subnormal", "zero")


def scale_exponent(f: Format, amax: Fraction) -> int:
    """The largest k with amax x 2^k <= the largest finite value: floor(log2(max / amax)), exactly."""
    top = f.max
    return _floor_log2_ratio(top.numerator * amax.denominator, top.denominator * amax.numerator)


def classify(f: Format, v: Fraction) -> str:
    nearest = f.nearest(v)
    if nearest == 0:
        return "zero"
    return "subnormal" if nearest < f.min_normal else "normal"


def _solve_range(g: dict[str, Any], f: Format) -> Solution:
    amax, amin = _f(g["amax"]), _f(g["amin"])
    k = scale_exponent(f, amax)
    scaled = amin * _two_to(k)
    cls = classify(f, scaled)
    over = "yes" if amax > f.max else "no"

    def steps() -> list[Step]:
        return [*_layout_steps(f)[:3],
            Step(f"amax $= {_given(g['amax'])}$ is {'above' if over == 'yes' else 'within'} the largest finite value "
                 f"${_num(f.max)}$: " + ("cast as it is, it overflows (overflow: yes)." if over == "yes"
                                        else "it does not overflow (overflow: no).")),
            Step("The scale $2^k$ is the largest power of two with amax $\\times 2^k \\le$ the largest finite value:",
                 rf"k = \left\lfloor \log_2 \frac{{{_num(f.max)}}}{{{_given(g['amax'])}}} \right\rfloor = "
                 rf"\lfloor {nf.sig(math.log2(f.max / amax), 6)} \rfloor = {k}"),
            Step("The smallest magnitude after scaling:",
                 rf"{_given(g['amin'])} \times 2^{{{k}}} = {nf.sig(scaled, 8)}"),
            Step({"normal": f"It is at least the smallest normal ${_num(f.min_normal)}$: a normal number.",
                  "subnormal": f"It lies below the smallest normal ${_num(f.min_normal)}$ but not below half the "
                               f"smallest subnormal ${_num(f.min_subnormal / 2)}$: it becomes a subnormal number.",
                  "zero": f"It lies below half the smallest subnormal, ${_num(f.min_subnormal / 2)}$: it rounds to 0 "
                          "(underflow)."}[cls])]
    return Solution((Part("max", "largest finite value", _number(f.max)),
                     Part("overflow", "amax overflows unscaled", Answer("choice", over, choices=YES_NO)),
                     Part("scale_exp", "scale exponent k", Answer("integer", k)),
                     Part("scaled_min", "smallest magnitude after scaling", _number(scaled, 3)),
                     Part("min_class", "class of the scaled amin", Answer("choice", cls, choices=CLASSES))),
                    steps)


_SOLVERS = {"layout": _solve_layout, "nearest": _solve_nearest, "range": _solve_range}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    f = _check(variant, givens)
    solution = _SOLVERS[variant](givens, f)

    def shown() -> tuple[Step, ...]:
        if variant == "layout":
            bits = str(givens["bits"]).replace(" ", "").replace("_", "")
            return (Step("", rf"\texttt{{{bits[0]}}}\ \ \texttt{{{bits[1:1 + f.exp_bits]}}}\ \ "
                             rf"\texttt{{{bits[1 + f.exp_bits:]}}}"),)
        # the numbers as the question shows them (LaTeX, not Python's 1e+20)
        return tuple(Step(name, _given(givens[name])) for name in (("x",) if variant == "nearest" else
                                                                    ("amax", "amin")))
    return Solution(solution.parts, lambda: solution.steps, shown)


# ---- sampling --------------------------------------------------------------------------------------

TIE_MARGIN = Fraction(1, 20)
EDGE = Fraction(1, 20)  # relative distance kept from class boundaries


def _custom(rng: Rng) -> dict[str, Any]:
    e = rng.randint(3, 8)
    return {"format": "custom", "exp_bits": e, "man_bits": rng.randint(max(2, 11 - e), min(10, 15 - e))}


def _decimal(rng: Rng, low_exp: int, high_exp: int) -> float:
    """A 4-significant-figure decimal between 10^low_exp and 10^high_exp."""
    e = rng.randint(low_exp, high_exp)
    return float(f"{rng.randint(1000, 9999)}e{e - 3}")


def _log_uniform(rng: Rng, low: float, high: float, figures: int) -> float:
    """A `figures`-significant-figure decimal, log-uniform between 10^low and 10^high."""
    t = low + (high - low) * rng.randint(0, 10**6) / 10**6
    return float(f"{10 ** t:.{figures - 1}e}")


def _near_tie(n: Fraction) -> bool:
    """|frac(n) - 1/2| < TIE_MARGIN, in integers: frac(n) = r/b with r = a mod b for n = a/b."""
    a, b = n.numerator, n.denominator
    return abs(2 * (a % b) - b) * TIE_MARGIN.denominator < 2 * b * TIE_MARGIN.numerator


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "layout":
        if difficulty == "hard":
            g = _custom(rng)
        else:
            g = {"format": rng.choice(("fp16", "fp16", "bf16", "fp32")), "exp_bits": 0, "man_bits": 0}
        f = fmt_of(g)
        if difficulty == "easy":  # a normal number within a few binades of 1
            e = rng.randint(max(1, f.bias - 20), min(f.max_exp_field, f.bias + 20))
        else:
            e = rng.randint(0, f.max_exp_field)
        code = str(rng.randint(0, 1)) + format(e, f"0{f.exp_bits}b") + format(rng.randint(0, 2**f.man_bits - 1),
                                                                            f"0{f.man_bits}b")
        value = f.decode(code)
        if value in (None, 0) or not 1e-4 <= abs(value) <= 1e30:
            raise Rejected("a zero pattern, or a magnitude too small or large to grade to 6 figures")
        return {**g, "bits": code}
    if variant == "nearest":
        names = {"easy": ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2"), "medium": tuple(FORMATS)[1:],
                 "hard": tuple(FORMATS)[1:]}[difficulty]
        key = rng.choice(names)
        f = FORMATS[key]
        low, high = math.log10(f.min_normal), math.log10(f.max) if difficulty != "easy" else min(math.log10(f.max), 3)
        # hard: half in the subnormal range, for the formats whose subnormals are large enough to grade
        if difficulty == "hard" and f.exp_bits <= 5 and f.man_bits <= 3 and rng.randint(0, 1):
            low, high = math.log10(f.min_subnormal), math.log10(f.min_normal)
        x = _log_uniform(rng, max(low, -4), high, 5)
        x = -x if rng.randint(0, 3) == 0 else x
        fx = _f(x)
        if not f.min_subnormal <= abs(fx) or abs(f.nearest(fx)) > f.max:
            raise Rejected("out of range")
        n = fx / f.spacing(fx)
        if _near_tie(n) or n.denominator == 1:
            raise Rejected("x is representable or too near a rounding tie")
        return {"format": key, "exp_bits": 0, "man_bits": 0, "x": x}
    # BF16 (and FP32) span 10^±38: their tensors need no scaling, and their tiny values cannot be graded
    names = {"easy": ("fp16", "fp8_e4m3", "fp8_e5m2"), "medium": ("fp16", "fp8_e4m3", "fp8_e5m2", "fp4_e2m1"),
             "hard": ("fp16", "fp8_e4m3", "fp8_e5m2", "fp4_e2m1")}[difficulty]
    key = rng.choice(names)
    f = FORMATS[key]
    mx = math.log10(f.max)
    amax = _decimal(rng, math.floor(mx) - 4, math.floor(mx) + 3)
    # the tensor spans as many decades as the format's normal range does, give or take a few
    span = math.log10(f.max / f.min_normal)
    amin = _decimal(rng, math.floor(math.log10(amax) - span) - (2 if difficulty == "hard" else 0),
                    math.floor(math.log10(amax) - span / 2))
    if amin > amax:
        raise Rejected("amin above amax")
    a, b = _f(amax), _f(amin)
    if f.max < a <= f.max * (1 + f.epsilon):
        raise Rejected("amax rounds to the largest finite value: overflow depends on rounding")
    k = scale_exponent(f, a)
    if a * _two_to(k + 1) <= f.max * (1 + EDGE):
        raise Rejected("amax x 2^(k+1) is too close to the largest finite value")
    scaled = b * _two_to(k)
    if scaled < Fraction(1, 10**9):
        raise Rejected("the scaled amin is too small to grade to 3 figures")
    for edge in (f.min_normal, f.min_subnormal / 2):
        if abs(scaled / edge - 1) < EDGE * 4:
            raise Rejected("the scaled amin is too close to a class boundary")
    if difficulty == "easy" and classify(f, scaled) == "zero":
        raise Rejected("easy: no underflow to zero")
    return {"format": key, "exp_bits": 0, "man_bits": 0, "amax": amax, "amin": amin}


# ---- named mistakes --------------------------------------------------------------------------------


def _bias_wrong(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return 2 ** int(fmt_of(g).exp_bits - 1)


def _max_ieee(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    """The IEEE rule (all-ones exponent reserved) applied to a format that does not reserve it."""
    f = fmt_of(g)
    if f.special == "ieee":
        return None
    return float((2 - Fraction(1, 2**f.man_bits)) * _two_to(2**f.exp_bits - 2 - f.bias))


def _max_all_ones(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    """The all-ones exponent counted as a number in a format that reserves it."""
    f = fmt_of(g)
    if f.special != "ieee":
        return None
    return float((2 - Fraction(1, 2**f.man_bits)) * _two_to(2**f.exp_bits - 1 - f.bias))


def _subnormal_as_normal(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return solution.value("min_normal_exp")


def _eps_half(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return solution.value("epsilon_exp") - 1


def _value_no_hidden_bit(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    f = fmt_of(g)
    bits = str(g["bits"])
    e, m = int(bits[1:1 + f.exp_bits], 2), int(bits[1 + f.exp_bits:], 2)
    if e == 0 or m == 0:
        return None
    sign = -1 if bits[0] == "1" else 1
    return float(sign * Fraction(m, 2**f.man_bits) * _two_to(e - f.bias))


def _truncated(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    t = float(fmt_of(g).nearest(_f(g["x"]), "truncate"))  # both exact in a double: the format has <= 23 bits
    return None if t == solution.value("nearest") else t


def _spacing_epsilon(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    epsilon = float(fmt_of(g).epsilon)
    return None if solution.value("spacing") == epsilon else epsilon


def _ceil_scale(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return solution.value("scale_exp") + 1


def _min_class_normal_only(variant: str, g: dict[str, Any], solution: Solution) -> str | None:
    """Subnormals forgotten: anything below the smallest normal taken to underflow to 0."""
    return "zero" if solution.value("min_class") == "subnormal" else None


MISTAKES = (
    Mistake("bias_off_by_one", "bias", "The bias is 2^(E-1) - 1, not 2^(E-1).", ("layout",), _bias_wrong),
    Mistake("all_ones_exponent_used", "max", "The all-ones exponent field is reserved for infinities and NaNs.",
            ("layout", "range"), _max_all_ones),
    Mistake("ieee_rule_assumed", "max", "This format does not reserve the all-ones exponent (E4M3: only the "
            "all-ones code is NaN; E2M1: no special codes).", ("range",), _max_ieee),
    Mistake("subnormals_forgotten", "min_subnormal_exp", "Below the smallest normal there are subnormals, down to "
            "2^(1 - bias - M).", ("layout",), _subnormal_as_normal),
    Mistake("half_epsilon", "epsilon_exp", "Machine epsilon here is the gap 2^-M between 1 and the next number, "
            "not the unit roundoff 2^-(M+1).", ("layout",), _eps_half),
    Mistake("hidden_bit_forgotten", "value", "A normal number has the implicit leading 1: 1.f, not 0.f.",
            ("layout",), _value_no_hidden_bit),
    Mistake("truncated", "nearest", "Rounding is to the nearest representable value, not toward zero.",
            ("nearest",), _truncated),
    Mistake("epsilon_as_spacing", "spacing", "The spacing scales with the binade: epsilon is the spacing at 1 "
            "only.", ("nearest",), _spacing_epsilon),
    Mistake("scale_overshoots", "scale_exp", "With one more doubling amax would exceed the largest finite value.",
            ("range",), _ceil_scale),
    Mistake("subnormals_forgotten", "min_class", _min_class_normal_only.__doc__, ("range",),
            _min_class_normal_only),
)


def _rel_from_shown(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The student computes the relative error from their own 6-figure nearest value (either neighbour of a
    tie: a binary value such as 0.001953125 often is one)."""
    x = _f(g["x"])
    return each(lambda y: float(abs(_f(y) - x) / abs(x)), nf.held(solution.value("nearest"), 6))


PATHS = (StudentPath("from_rounded", "rel_error", _rel_from_shown.__doc__, ("nearest",), _rel_from_shown),)

TOPIC = Topic(
    name="formats",
    description="floating-point formats FP32/FP16/BF16/FP8/FP4: layout, bias, range, epsilon, rounding, overflow "
                "and underflow",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
