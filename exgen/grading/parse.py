"""Reading what a student typed: numbers (with units), integers, vectors, matrices, choices, expressions.

Nothing here executes student text. Every parser is our own grammar (regular expressions, then `int`,
`Decimal`, `Fraction` on text the grammar already accepted); units are checked against a whitelist grammar
and built from pint unit *names* (a lookup, never pint's expression evaluator, which accepts `**` and
numbers); expressions go through expr.py. Each parser returns a value or raises `ParseError`, whose message
is written for the student. Input length is bounded before any work is done.

Number spellings accepted (whitespace anywhere between the pieces; thin and no-break spaces are spaces):
    7.3e22  7.3E+22  7.3 × 10^22  7.3*10^22  7.3x10^22  7.3·10^(22)  7.3 \\times 10^{22}  7.3×10²²  10^22
    −7.3 (unicode minus)  $7.3 \\times 10^{22}$  1,234,567.8  1 234 567  3/4  2^12  2**12  3 × 2^10  1.5k  4Ki
    46.8 billion(s)  1.5 hundred  17 Btokens (a multiplier that is not read, as '2 dozen', is refused, never dropped)
    1.203 Days  60457 kg CO2e  200.6 ops/byte  149536 steps/epoch  ≈ 68.3 billion  68.3 billion.  149,536 (integer)
Decimal commas: "2,5" is 2.5 and "0,125" is 0.125, but "1,234" (one comma, then exactly three digits, after a
non-zero integer part) is refused as ambiguous — thousands separator or decimal comma? — and the message says
how to write it (for a whole-number part it is 1234: a decimal comma could not give one). Commas in matrices and
vectors always separate entries.
Refused as invalid: nan, inf, numbers beyond float range (1e400), non-zero numbers that underflow to 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from exgen.problem import Answer
from exgen.units import ANSWER_UNITS, shown

MAX_TEXT = 10_000          # any one answer, before anything else is looked at
MAX_NUMBER_TEXT = 200      # one number with its unit
MAX_UNIT_TEXT = 40
MAX_UNIT_FACTORS = 8
MAX_UNIT_EXPONENT = 9
MAX_ENTRIES = 10_000       # entries of a matrix or vector
MAX_EXPONENT_DIGITS = 5


class ParseError(ValueError):
    """An answer that cannot be read; the message tells the student why and how to write it."""


@dataclass(frozen=True)
class Reading:
    """A parsed answer: `value` in the key's unit; `notes` say how the text was read (a decimal comma, a
    unit conversion); `refused` is set when the value is readable but its unit is not accepted."""

    value: Any
    notes: tuple[str, ...] = ()
    refused: str = ""


# ---- cleaning --------------------------------------------------------------------------------------

_SPACES = dict.fromkeys(map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                                 "\u202f\u205f\u3000\t"), " ")
_MINUS = dict.fromkeys(map(ord, "\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d"), "-")  # (and hyphens)
# Full-width forms (a CJK keyboard): ＧＢ is GB, ３０．２ is 30.2 (U+FF01 … U+FF5E are ASCII ! … ~ shifted)
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_LATEX = [(r"\times", "×"), (r"\cdot", "×"), (r"\,", " "), (r"\;", " "), (r"\:", " "), (r"\!", ""),
          (r"\ ", " "), (r"\%", "%"), (r"\mu", "µ"), ("⋅", "×"), ("·", "×"), ("∗", "×"), ("**", "^")]
_TEXT_MACRO = re.compile(r"\\(?:mathrm|text|textrm|operatorname|mathit)\s*\{([^{}]*)\}")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")


def clean(text: str) -> str:
    """Normalise the typography people type (LaTeX, unicode, $…$) into plain ASCII-ish text."""
    plain = text.isascii()  # (the common case, and a fast one: no unicode to map, no ⋅ · ∗ to replace)
    if not plain or "\t" in text:
        text = text.translate(_SPACES).translate(_MINUS).translate(_FULLWIDTH).replace("\u200b", "").replace("\ufeff", "")
    text = text.replace("\\\\", "\n").strip()  # a LaTeX row break is a line break
    for opening, closing in (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if len(text) >= len(opening) + len(closing) and text.startswith(opening) and text.endswith(closing):
            text = text[len(opening):len(text) - len(closing)].strip()
            break
    if plain and "\\" not in text and "**" not in text:
        return text.strip()  # none of _LATEX or _TEXT_MACRO can apply
    for old, new in _LATEX:
        text = text.replace(old, new)
    return _TEXT_MACRO.sub(r" \1", text).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters other than \t \n \r


def _bounded(text: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(text, bool) or text is None:
        raise ParseError("expected an answer, not an empty or yes/no value")
    if isinstance(text, (int, float)):
        text = repr(text)
    if not isinstance(text, str):
        raise ParseError("expected one value, not a list")
    if len(text) > limit:
        raise ParseError(f"this answer is too long ({len(text)} characters; at most {limit})")
    if _CONTROL.search(text):
        raise ParseError("this answer contains control characters")
    return text


# ---- numbers ---------------------------------------------------------------------------------------

_NOT_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞",
               "+∞", "undefined"}
_MANTISSA = re.compile(r"""
    (?P<sign>[+-]?)\s*
    (?P<mantissa>
        \d{1,3}(?:[ ,'_]\d{3})+(?!\d)(?:\.\d*)?   # grouped thousands: 1,234,567.8  1 234 567  1'234
      | \d+,\d+                            # a decimal comma (decided below)
      | \d+\.?\d*                          # 12  12.  12.5
      | \.\d+                              # .5
    )""", re.VERBOSE)
_POWER = r"""\s*\^\s*(?:\{\s*(?P<{n}a>[+-]?\d+)\s*\}|\(\s*(?P<{n}b>[+-]?\d+)\s*\)|(?P<{n}c>[+-]?\d+))"""
_EXPONENT = re.compile(r"""
    \s*(?:
        [eE](?P<e>[+-]?\d+)
      | (?:×|\*|x|X)\s*(?P<base>\d{1,6})(?:""" + _POWER.replace("{n}", "p") + r"""|(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))
    )""", re.VERBOSE)
# A power of an integer: 10^22, and 2^12, 2**12, 2^{12}, 3 × 2^10 where a count is a power of two. Only an integer base
# and exponent, bounded before anything is computed (never a general expression).
_TEN_POWER = re.compile(r"\s*(?P<sign>[+-]?)\s*(?P<base>\d{1,6})" + _POWER.replace("{n}", "t")
                        + r"|\s*(?P<sign2>[+-]?)\s*(?P<base2>\d{1,6})(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_DIVISOR = re.compile(r"\s*/\s*(?P<d>\d+(?:\.\d+)?)(?![\w.])")
# Number words as the questions write them ("a 46.8-billion-parameter model"), short scale. No part asks for
# a count in millions or billions (tests/test_grading_parse.py checks every question), so the word is a factor.
# A plural ("3.66 billions") is the same factor; any other word that multiplies is refused, never dropped (_MULTIPLIER).
_MAGNITUDES = {"hundred": 2, "thousand": 3, "million": 6, "billion": 9, "bn": 9, "trillion": 12}  # bn: "1.5 bn"
_MAGNITUDE = re.compile(r"\s*-?\s*((hundred|thousand|million|billion|bn|trillion)s?)\b", re.I)


def _mantissa_decimal(text: str, notes: list[str], integer: bool = False) -> Decimal:
    """The mantissa's digits as an exact Decimal, resolving thousands separators and decimal commas (for a whole
    number part, '149,536' can only be 149536: a decimal comma could not give a whole number)."""
    if "," in text and re.fullmatch(r"\d+,\d+", text):
        whole, frac = text.split(",")
        if len(frac) == 3 and whole.lstrip("0") != "" and integer:
            notes.append(f"read the comma in {text!r} as a thousands separator (the answer is a whole number)")
            return Decimal(whole + frac)
        if len(frac) == 3 and whole.lstrip("0") != "":
            raise ParseError(f"{text!r} is ambiguous (thousands separator or decimal comma?): write "
                             f"{whole}{frac} or {whole}.{frac}")
        notes.append(f"read the decimal comma in {text!r} as {whole}.{frac}")
        return Decimal(f"{whole}.{frac}")
    if any(sep in text for sep in " ,'_"):
        return Decimal(re.sub(r"[ ,'_]", "", text))
    return Decimal(text)


def _group(m: re.Match, prefix: str) -> str | None:
    for suffix in "abc":
        value = m.group(prefix + suffix)
        if value is not None:
            return value
    return None


# What may stand before the value and changes nothing: '≈', '~'. Not 'X =': a review found 's = 20' graded right
# for 20 ms, 'GB = 92.2' for a GiB part and 'weights_GiB = 2.61' for a GB part (a symbol can hold a unit).
_LEADING = re.compile(r"(?:≈|~|\\approx)\s*(?=[-+.\d])")
# What may follow a whole number whose comma then only separates thousands: nothing, or words naming what it
# counts ('149,536 steps', 'tokens per batch'); never a unit prefix, a multiplier or a number word, with which a
# decimal comma reads as plausibly ('1,152 KiB' is 1152 KiB or 1.152 KiB; '4,522 K'; '1,662 thousand'; '13,200 kflop').
# What a count counts, as the units of 1 exgen defines (units.COUNTED) and a glued factor scales ('Btokens'), and
# other ordinary words a count is written with: the one list the rules below read.
_COUNTED_NOUN = r"(?i:tokens?|toks?|param(?:eter)?s?|weights?|steps?|gpus?|sequences?|elements?|entry|entries" \
    r"|batch(?:es)?)"
_COUNT_WORD = r"(?i:" + _COUNTED_NOUN + r"|micro-?(?:steps?|batch(?:es)?)|bytes?|bits?|flops?|rows?|columns?" \
    r"|layers?|heads?|passes|samples?|epochs?|iterations?|blocks?|kernels?|tensors?|transformers?|gradients?)"
_COUNTED_WORDS = re.compile(r"(?:[\s/(]+(?:per|" + _COUNT_WORD + r")\)?)*\.?")  # (only these words: a number word
# or a prefixed unit after a comma reads a decimal comma too)
_SENTENCE_END, _BARE_POINT = re.compile(r"[\w%)]\s*\.$"), re.compile(r"[+-]?\d+\.")


def read_number(text: str, integer: bool = False) -> tuple[Decimal, str, list[str]]:
    """(exact value, the unit text after it, notes). Raises ParseError."""
    text = clean(_bounded(text, MAX_NUMBER_TEXT))
    leading = _LEADING.match(text)
    text = text[leading.end():] if leading else text
    if text.endswith(".") and _SENTENCE_END.search(text) and not _BARE_POINT.fullmatch(text):  # a sentence's period
        text = text[:-1].rstrip()  # ('68.3 billion.', '0.71.'; a number cannot hold two points)
    if not text:
        raise ParseError("no answer")
    if text.lower().replace(" ", "") in _NOT_FINITE or text.lower().split(" ")[0] in _NOT_FINITE:
        raise ParseError(f"{text!r} is not a finite number")
    notes: list[str] = []
    exponent, base = 0, 10
    m = _TEN_POWER.match(text)
    if m:
        base = int(m.group("base") or m.group("base2"))
        sign = m.group("sign") or m.group("sign2") or ""
        power = _group(m, "t") or m.group("sup").translate(_SUPERSCRIPT)
        value = Decimal(f"{sign}1")
        rest = text[m.end():]
    else:
        m = _MANTISSA.match(text)
        if not m:
            raise ParseError(f"{_show(text)} is not a number (write e.g. 7.3e22 or 7.3 × 10^22)")
        whole = integer and bool(_COUNTED_WORDS.fullmatch(text[m.end():]))  # only a count's own words after it
        value = _mantissa_decimal(m.group("mantissa"), notes, whole)
        if m.group("sign") == "-":
            value = -value
        rest = text[m.end():]
        power = None
        e = _EXPONENT.match(rest)
        if e:
            power = e.group("e") or _group(e, "p") or e.group("sup").translate(_SUPERSCRIPT)
            base = int(e.group("base") or 10)
            rest = rest[e.end():]
        d = _DIVISOR.match(rest)
        if d and power is None:
            divisor = Decimal(d.group("d"))
            if divisor == 0:
                raise ParseError("division by zero")
            value = value / divisor
            rest = rest[d.end():]
    if power is not None:
        if len(power.lstrip("+-")) > MAX_EXPONENT_DIGITS:
            raise ParseError(f"{_show(text)} is out of range")
        exponent = int(power)
    if base != 10:  # 2^12: bounded first (|exponent| ≤ 99999, and the result within float range)
        if base > 1 and abs(exponent) * math.log10(base) > 330 or base == 0 and exponent < 0:
            raise ParseError(f"{_show(text)} is out of range")
        value = value * base ** exponent if exponent >= 0 else value / base ** -exponent
        exponent = 0
    word = _MAGNITUDE.match(rest)
    if word:
        exponent += _MAGNITUDES[word.group(2).lower()]
        notes.append(f"read '{word.group(1)}' as × 10^{_MAGNITUDES[word.group(2).lower()]}")
        rest = rest[word.end():]
    try:
        value = value.scaleb(exponent)
    except InvalidOperation:
        raise ParseError(f"{_show(text)} is out of range") from None
    as_float = float(value)
    if not math.isfinite(as_float) or abs(as_float) > 1.7e308:
        raise ParseError(f"{_show(text)} is too large to be a sensible answer")
    if as_float == 0 and value != 0:
        raise ParseError(f"{_show(text)} is too small to be a sensible answer")
    unit = rest.strip()
    if re.fullmatch(r"[eE][+-]?", unit):
        raise ParseError(f"{_show(text)}: an exponent needs its digits, as in 7.3e22")
    if unit and not re.match(r"[A-Za-zµμΩ°%(×Ψψ]", unit):
        raise ParseError(f"{_show(text)}: unexpected {_show(unit)} after the number (one number per answer)")
    return value, unit, notes


def _show(text: str, limit: int = 40) -> str:
    text = text if len(text) <= limit else text[:limit] + "…"
    return repr(text)


# ---- units -----------------------------------------------------------------------------------------

_UNIT_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-zµμΩ°%]+)|(?P<op>\^|\*|×|/|\(|\))|(?P<int>[+-]?\d+))")


# 'tons' of CO2e are metric in this course (pint's ton is the US short ton, 0.907 t): read as tonnes, with a note
_TONS = re.compile(r"(?:metric\s*)?tons?(?:\s*(?:of\s*)?CO2(?:[- ]?eq?)?)?", re.I)
_KILOTONS = re.compile(r"(?:(k|K|[Kk]ilo)|(M|[Mm]ega))-?(?:metric\s*)?(?:tons?|tonnes?|t)"
                       r"(?:\s*(?:of\s*)?CO2(?:[- ]?eq?)?)?")
# The question's 'tonnes of CO2-equivalent' after any mass unit ('t CO₂e', 'kg CO2e', 'tCO2'): the mass is the answer.
_CO2E = re.compile(r"(?<=[A-Za-z])\s*(?:of\s*)?CO[2₂](?:[- ]?e(?:q(?:uiv(?:alent)?)?)?)?", re.I)
# Operations where the part counts FLOP ('ops/byte', 'floating-point operations'); a ratio's ':' ('FLOP:byte') is '/'.
_OPS = re.compile(r"(?<![A-Za-z])(?:floating[- ]point[- ]?(?:operations?|ops?)|ops?|operations?)(?![A-Za-z])", re.I)


# Units as the questions name them, which the unit grammar would read otherwise or not at all: PF-days (pint's PF
# is a petafarad), tonnes of CO2-equivalent.
_QUESTION_UNITS = ((re.compile(r"(?:PF|P-?FLOPS?(?:/s)?|peta-?flops?(?:/s)?)[- ]?days?", re.I), "PFLOP/s*day"),
                   (re.compile(r"t(?:onnes?)?\s*(?:of\s*)?CO2(?:[- ]?eq?)?", re.I), "t"),
                   (_TONS, "t"),
                   (re.compile(r"pct", re.I), "percent"))


# A factor after a number as the field writes sizes: 70B, 1.5T, 1.5k tokens/s, and the binary 4Ki (4096). Alone only
# where the key has no unit (a count, where B cannot be bytes nor T tesla); before a unit where reading the letter
# as a factor fits the part and reading it as a unit does not (1.5 B parameters is bytes where the key is in bytes).
_SUFFIXES = {"k": (10, 3), "K": (10, 3), "M": (10, 6), "B": (10, 9), "T": (10, 12),
             "Ki": (2, 10), "Mi": (2, 20), "Gi": (2, 30), "Ti": (2, 40)}
_SUFFIX = re.compile(r"(k|K|M|B|T|Ki|Mi|Gi|Ti)(?:\s+(\S.*))?", re.S)
_WORDS = re.compile(r"[A-Za-z][A-Za-z-]*(?:\s+[A-Za-z][A-Za-z-]*)*")


# Words that multiply a number, which a label must never be (read as a label, '2 dozen' was graded as 2): number
# words not read by _MAGNITUDE, SI prefixes alone (a longer word starting with kilo … peta as well: 'Megatokens'
# where pint does not know it), and a K/M/B/G/T glued to what a count counts ('Btokens' is read in read_quantity).
_MULTIPLIER = re.compile(r"(?:[a-z]*illion|bn|bln|bil|mil|mln|mn|lakh|lac|crore|milliard|dozen|hundred|thousand"
                         r"|(?:kilo|mega|giga|tera|peta)[a-z]*|exa|zetta|yotta|kibi|mebi|gibi|tebi|pebi|hecto|deca|deka"
                         r"|milli|micro|nano|pico)s?", re.I)
_GLUED = re.compile(r"([kKMBGTm])-?(" + _COUNTED_NOUN + r"(?![A-Za-z]).*)", re.S)
_GLUED_POWERS = {"k": 3, "K": 3, "M": 6, "B": 9, "G": 9, "T": 12}
# A spelled SI prefix on what a count counts ('kilosteps', 'gigaparams'): refused, never scaled (only K/M/B/G/T glued
# is read, above) — except the field's own terms, a micro-step and a micro-batch, which name what is counted.
_PREFIXED_COUNT = re.compile(r"(?<![A-Za-z])(kilo|mega|giga|tera|peta|exa|hecto|deca|deka|deci|centi|milli|micro|nano"
                             r"|pico|kibi|mebi|gibi|tebi|pebi)[- ]?(" + _COUNTED_NOUN + r")(?![A-Za-z])",
                             re.I)
_MICRO_TERM = re.compile(r"micro[- ]?(steps?|batch(?:es)?)", re.I)
# The same with a prefix's symbol ('ntokens', 'µsteps'): pint would scale it by 10^-9 or 10^-6; K/M/B/G/T and m are
# the glued factors above. 'µsteps' and 'usteps' are micro-steps, the field's term.
_SYMBOL_PREFIXED_COUNT = re.compile(r"(?<![A-Za-z])([nµμupcdhEPZ])-?(" + _COUNTED_NOUN + r")(?![A-Za-z])")
_MICRO_SYMBOL = re.compile(r"[µμu]-?(steps?|batch(?:es)?)")


def _multiplier(text: str) -> str | None:
    """The first word of `text` that multiplies a number ('dozen', 'Mega', 'crores') and is not a unit pint reads
    (a prefixed count, 'gigaparams', is refused before: _PREFIXED_COUNT), if any; 'micro-batches' names a thing."""
    from exgen.units import registry

    words = re.split(r"[\s-]+", text)
    for word, after in zip(words, [*words[1:], ""]):
        if _MULTIPLIER.fullmatch(word) and not _MICRO_TERM.fullmatch(f"{word}-{after}"):
            try:
                registry().Unit(word)
            except Exception:  # noqa: BLE001 -- pint's UndefinedUnitError: a word, not a unit
                return word
    return None


def _is_label(text: str) -> bool:
    """Words that name what a plain number counts ('optimizer steps', 'micro-batches', 'trainable parameters'):
    words only, each either no unit at all or one of the counting units of 1 (token, parameter, GPU, …), so
    '5 GB', '5 s' or '5 %' for a plain number still go through the units."""
    if len(text) > MAX_UNIT_TEXT or not _WORDS.fullmatch(text):
        return False
    from exgen.units import COUNTED, registry

    ureg = registry()
    for word in re.split(r"[\s-]+", text):
        if word in _SUFFIXES:  # '4 Ki' is 4096, never 4 counted in 'Ki'
            return False
        if _FACTOR_ON_WORD.fullmatch(word) and not _PLAIN_COUNT_WORD.fullmatch(word):
            return False  # 'Gsamples', 'Kmicro', 'Gupdates': a factor glued to a word, never dropped
        if _short(word) or any(c.fullmatch(word) for c in _UNIT_WORDS):
            return False  # 'p', 'wh', 'gbytes', 'tflops', 'tons': a unit as the grammar reads it, not a name
        counted = None
        for name in dict.fromkeys(_BITS.sub(r"\1bit", n) for n in _cases(word)):  # ('Bytes' is a unit)
            try:
                unit = ureg.Unit(name)
            except Exception:  # noqa: BLE001 -- pint's UndefinedUnitError and parse errors: a word, not a unit
                continue
            if str(unit) not in COUNTED:
                return False
            counted = True
        if not counted and not word.isupper() and any(_is_unit(word[len(p):]) for p in _LABEL_PREFIXES
                                                      if word.startswith(p)):
            return False  # a prefix on a unit in another case or spelling: 'KHz', 'gtokens', 'Pwh' (not 'KV')
    return True


# A factor's capital glued to a lowercase word ('Gsamples', 'Gupdates'), unless the whole word is an ordinary one
# ('Tokens', 'Batches', 'Microbatches'): a review found the factor dropped and '16 Gsamples' graded as 16.
_FACTOR_ON_WORD, _PLAIN_COUNT_WORD = re.compile(r"[KMGTB][a-z][a-z]{2,}"), re.compile(_COUNT_WORD)


# What a label may not be (besides a unit pint reads): a short word that is not an ordinary one, a word the unit
# conventions below read, or a prefix on a unit ('KHz', 'gtokens', 'kiflops').
_SHORT_WORDS = {"of", "in", "on", "to", "at", "by", "an"}
_LABEL_PREFIXES = ("da", "Ki", "ki", "Mi", "mi", "Gi", "gi", "Ti", "ti", "Pi", "pi", "Ei", "ei",
                   *"kKmMgGtTpPeEuµnchYZzyaf")


def _short(word: str) -> bool:
    """A letter alone ('E' is exa) or two that are not an acronym ('KV') nor an ordinary word ('of'): no label."""
    return len(word) == 1 or len(word) == 2 and not word.isupper() and word.lower() not in _SHORT_WORDS


def _cases(word: str) -> tuple[str, ...]:
    """The word as typed, and lowercased where it is capitalised ('Bytes', 'DAYS'; an acronym as 'FMAs' is not)."""
    return (word, word.lower()) if word.istitle() or word.isupper() and len(word) > 3 else (word,)


def _is_unit(word: str) -> bool:
    """Whether a word (in any case) is a unit pint or the grammar's conventions read."""
    from exgen.units import registry

    if any(c.fullmatch(word) for c in _UNIT_WORDS):
        return True
    for name in dict.fromkeys(_BITS.sub(r"\1bit", n) for n in _cases(word)):
        try:
            registry().Unit(name)
            return True
        except Exception:  # noqa: BLE001 -- pint's UndefinedUnitError and parse errors: not a unit
            continue
    return False


# A FLOP word in any case ('tflops', 'Gflop/s', 'tera-FLOPs'): its prefix letter is always the decimal prefix (a
# lowercase p is peta, never pico; m is mega). "FLOPS"/"flops"/"FLOPs" is a count (plural) or a rate (FLOP/s): the
# part's dimension decides (read_quantity), and the feedback says how it was read.
_FLOP_WORD = re.compile(r"(?<![A-Za-z])(?:(kilo|mega|giga|tera|peta|exa|zetta|[kmgtpez])-?)?flop(s?)(?![A-Za-z])", re.I)
_FLOP_PREFIX = {"kilo": "k", "mega": "M", "giga": "G", "tera": "T", "peta": "P", "exa": "E", "zetta": "Z"}


def flop_readings(text: str) -> list[str]:
    """The unit text with its FLOP words in the grammar's spelling: one reading, or two where a 'flops' is a
    count or a rate (every such word read as a count, then every one as a rate)."""
    def spelled(rate: bool):
        def one(m: re.Match) -> str:
            prefix = (m.group(1) or "").lower()
            unit = _FLOP_PREFIX.get(prefix, prefix.upper().replace("K", "k")) + "FLOP"
            return f"({unit}/s)" if rate and m.group(2) else unit
        return _FLOP_WORD.sub(one, text)

    if not _FLOP_WORD.search(text):
        return [text]
    count, rate = spelled(False), spelled(True)
    return [count] if count == rate else [count, rate]


# A byte word as people type it (docs/decisions/grading.md): 'GBs' is a plural GB or GB/s (the part's
# dimension decides, as for flops), 'TBps' is TB/s, 'Gbps' Gbit/s. An all-lowercase 'gb', 'tb/s', 'mib' is bytes
# unless the key is in bits (everyday spelling, as '80gb GPU'; gigabits are written Gb or Gbit); where the key is
# in bits it is refused, and 'gbps' (gigabits in networking, gigabytes to some) is refused everywhere.
_BYTE_WORD = re.compile(r"(?<![A-Za-z])([kmgtpeKMGTPE])(i?)(bit|[Bb])(ps|s)?(?![A-Za-z])")
# 'byte'/'bit' spelled out in any case, after a prefix letter or not ('24 Bytes', '30.2 GBytes', '30.2 G bytes')
_BYTE_NAME = re.compile(r"(?<![A-Za-z])(?:([kKmMgGtTpPeE]i?)\s?)?(?i:(byte|bit))(?i:s)?(?![A-Za-z])")  # (m is mega)
_WATT_HOURS = re.compile(r"(?<![A-Za-z])([kmgt]?)wh(?![A-Za-z])", re.I)
_UNIT_WORDS = (_FLOP_WORD, _BYTE_WORD, _BYTE_NAME, _WATT_HOURS, _TONS)  # (a label is none of these: _is_label)
_KEY_BYTES = re.compile(r"(?<![A-Za-z])(?:[kMGTPE]i?)?B(?![A-Za-z])|byte")  # (a key is in bytes or in bits)


_PREFIX_WORDS = {"k": "kilo", "M": "mega", "G": "giga", "T": "tera", "P": "peta", "E": "exa",
                 "Ki": "kibi", "Mi": "mebi", "Gi": "gibi", "Ti": "tebi", "Pi": "pebi", "Ei": "exbi"}


def unit_readings(text: str, key_unit: str) -> tuple[list[str], list[str]]:
    """The unit text in the grammar's spelling, as flop_readings (one reading or two: a plural count, then a
    rate), with notes naming a convention that was applied ('gb' read as GB, 'mwh' as MWh). Raises ParseError
    where the spelling has two readings of the same dimension (gigabytes or gigabits)."""
    notes: list[str] = []
    in_bits = "bit" in key_unit and not _KEY_BYTES.search(key_unit)

    def byte_word(m: re.Match, rate: bool) -> str:
        prefix, binary, b, tail = m.groups()
        lowercase = prefix.islower() and b == "b"
        letter = prefix.upper() if binary or prefix not in "kK" else "k"
        if lowercase and (tail == "ps" or in_bits):
            per = "/s" if tail == "ps" else ""
            word = _PREFIX_WORDS[letter + binary]
            raise ParseError(f"{m.group(0)!r} could be {word}bytes or {word}bits: write {letter + binary}B{per} for "
                             f"{word}bytes or {letter + binary}bit{per} for {word}bits")
        # a binary prefix is always capital (Ki, Mi): 'kibit' is a kibi-tonne to pint, 'kiB' nothing at all
        name = letter + binary + ("B" if lowercase or b == "B" else "bit")
        if lowercase and not rate:
            notes.append(f"read {prefix + binary + b!r} as {name}")
        return f"({name}/s)" if tail == "ps" or (tail == "s" and rate) else name

    def watt_hours(m: re.Match) -> str:
        unit = ("k" if m.group(1) in ("k", "K") else m.group(1).upper()) + "Wh"  # a lowercase m is mega, as for flops
        if m.group(0) != unit:
            notes.append(f"read {m.group(0)!r} as {unit}")
        return unit

    def byte_name(m: re.Match) -> str:
        prefix = m.group(1) or ""
        prefix = "k" if prefix in ("k", "K") else prefix[:1].upper() + prefix[1:]
        return prefix + ("B" if m.group(2).lower() == "byte" else "bit") if prefix else m.group(2).lower()

    text = _BYTE_NAME.sub(byte_name, _WATT_HOURS.sub(watt_hours, text))
    count = _BYTE_WORD.sub(lambda m: byte_word(m, False), text)
    rate = _BYTE_WORD.sub(lambda m: byte_word(m, True), text)  # GBs: a plural GB, or GB per second
    readings = [r for text in dict.fromkeys([count, rate]) for r in flop_readings(text)]
    return list(dict.fromkeys(readings)), notes


def question_unit(text: str) -> str:
    """The unit text with a question's own spelling of a unit (PF-days, t CO2e) written as the grammar reads it."""
    for spelling, unit in _QUESTION_UNITS:
        if spelling.fullmatch(text):
            return unit
    return text


def _unit_names(text: str) -> list[tuple[str, str]]:
    if len(text) > 2 * MAX_UNIT_TEXT:  # (typed text is held to MAX_UNIT_TEXT; a reading, (FLOP/s) for flops, is longer)
        raise ParseError(f"the unit {_show(text)} is too long")
    tokens, pos = [], 0
    text = re.sub(r"\bper\b", "/", text)
    text = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", "*", text)  # GPU-hours: GPUs times hours
    while pos < len(text):
        m = _UNIT_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ParseError(f"cannot read the unit {_show(text)} (write e.g. GB, GiB/s, TFLOP/s, h, days)")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


# `b` is a bit (Gb, Mb/s): pint's `b` is a barn, an area no answer here is ever in (docs/decisions.md).
_BITS = re.compile(r"^((?:k|Ki|[MGTPE]i?)?)b$")


_SHORT_TON = re.compile(r"[a-z]*(?<!metric_)ton")  # pint's ton, 'Gton', is the US short ton (metric_ton is t)
_BINARY_MISREAD = re.compile(r"(?:kibi|mebi|gibi|tebi|pebi|exbi|zebi|yobi)(?!bit$|byte$)")


def _unit_word(name: str):
    """pint's unit of a name, or None; a unit WORD of more than three letters in any case ('Days', 'Gigabytes',
    'MILLISECONDS') is read lowercased, while a symbol keeps its case (Mb is a megabit, MB a megabyte)."""
    from exgen.units import registry

    ureg = registry()
    word = len(name) > 3 and (name.istitle() or name.isupper())
    for candidate in dict.fromkeys([name, name.lower()] if word else [name]):
        try:
            unit = ureg.Unit(candidate)
        except Exception:  # noqa: BLE001 -- pint's UndefinedUnitError and its parse errors: an unknown name
            continue
        # lowercased, a prefix must be spelled out: 'MBIT' is no 'mbit' (a millibit), 'Gigabits' is 'gigabits'
        if candidate == name or all(candidate.startswith(p) for p, _, _ in ureg.parse_unit_name(candidate)):
            return unit
    return None


@lru_cache(maxsize=1024)
def parse_unit(text: str):
    """A pint Unit from unit text in the whitelist grammar:

        unit := factor (('*' | '/' | ' ') factor)* ;  factor := (NAME | '(' unit ')') ('^' INT)?

    with NAME letters only (looked up by name in the registry) and |INT| ≤ MAX_UNIT_EXPONENT.
    """
    tokens = _unit_names(text)
    if sum(kind == "name" for kind, _ in tokens) > MAX_UNIT_FACTORS:
        raise ParseError(f"the unit {_show(text)} has too many factors")
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else ("end", "")

    def factor(depth: int):
        nonlocal i
        kind, value = peek()
        if kind == "name":
            i += 1
            name = "percent" if value == "%" else _BITS.sub(r"\1bit", value.replace("μ", "µ"))
            unit = _unit_word(name)
            if unit is None:
                raise ParseError(f"unknown unit {value!r}")
            if _BINARY_MISREAD.match(str(unit)) or _SHORT_TON.fullmatch(str(unit)):
                raise ParseError(f"unknown unit {value!r}")  # 'Kit' as a kibi-tonne; 'Gtons' as US short tons
        elif value == "(" and depth < 3:
            i += 1
            unit = product(depth + 1)
            if peek()[1] != ")":
                raise ParseError(f"missing ')' in the unit {_show(text)}")
            i += 1
        else:
            raise ParseError(f"cannot read the unit {_show(text)}")
        if peek()[1] == "^":
            i += 1
            kind, power = peek()
            if kind != "int" or abs(int(power)) > MAX_UNIT_EXPONENT:
                raise ParseError(f"unit powers are small integers, as in m^2 ({_show(text)})")
            i += 1
            unit = unit ** int(power)
        return unit

    def product(depth: int):
        nonlocal i
        unit = factor(depth)
        while True:
            kind, value = peek()
            if value in ("*", "×"):
                i += 1
                unit = unit * factor(depth)
            elif value == "/":
                i += 1
                unit = unit / factor(depth)
            elif kind == "name" or value == "(":
                unit = unit * factor(depth)
            else:
                return unit

    unit = product(0)
    if i != len(tokens):
        raise ParseError(f"cannot read the unit {_show(text)}")
    return unit


@lru_cache(maxsize=1024)
def _signature(unit) -> tuple:
    """What a unit measures, counting information (bits, bytes) as a dimension of its own (pint treats
    bits as dimensionless, which would let '3 GB' pass for a plain ratio)."""
    from exgen.units import registry

    root = registry().Quantity(1, unit).to_root_units()
    return tuple(sorted(root.units._units.items()))


@lru_cache(maxsize=1024)
def _factor(unit, key_unit: str) -> Decimal:
    """The conversion factor as the decimal it stands for (pint's float 1e9 for giga, or 999999999.9999999
    for a product of prefixes, read to 15 significant figures): a value converted in decimal keeps an exact
    count exact, so 9.6e-7 GFLOP is 960 FLOP, not 960.0000000000001."""
    from exgen.units import registry

    return Decimal(f"{float(registry().Quantity(1, unit).to(key_unit).magnitude):.15g}")


@lru_cache(maxsize=256)
def _key_unit(text: str):
    """The key's own unit, through the same whitelist grammar as a student's (a hand-edited key is text too)."""
    from exgen.units import registry

    return parse_unit(text) if text else registry().dimensionless


def read_quantity(answer: Answer, text: Any) -> Reading:
    """A number, in the key's unit. No unit written means the key's unit."""
    value, unit_text, notes = read_number(text, integer=answer.kind == "integer")
    glued = _GLUED.fullmatch(unit_text)
    if glued:  # '17 Btokens', '1.5 Kparams': the letter scales what the count counts (pint knows no B or K prefix)
        letter, rest = glued.groups()
        if letter == "m":
            raise ParseError(f"{unit_text!r}: a lowercase m is milli; write M for million, or the number in full")
        value *= Decimal(10) ** _GLUED_POWERS[letter]
        notes.append(f"read {letter!r} as × 10^{_GLUED_POWERS[letter]}")
        unit_text = rest
    m = _SUFFIX.fullmatch(unit_text)
    if not m or not (m.group(2) or not answer.unit):
        return _in_unit(answer, value, unit_text, notes)
    base, power = _SUFFIXES[m.group(1)]
    try:
        as_factor = _in_unit(answer, value * base ** power, m.group(2) or "",
                             [*notes, f"read '{m.group(1)}' as × {base}^{power}"])
    except ParseError as e:
        as_factor, error = None, e
    try:
        as_unit = _in_unit(answer, value, unit_text, notes)
    except ParseError:
        as_unit = None
    if as_factor and as_unit and as_factor.value == as_unit.value:  # '0.192 k bits': kbit either way
        return as_unit
    if as_factor and as_unit:  # (no unit of this project's parts makes both fit otherwise; refused, not guessed)
        raise ParseError(f"{unit_text!r} can be read two ways: write the number in full, or its unit without a space")
    if not (as_factor or as_unit):
        raise error
    return as_factor or as_unit


def _in_unit(answer: Answer, value: Decimal, unit_text: str, notes: list[str]) -> Reading:
    """`value` written in `unit_text` (empty: the key's unit), in the key's unit."""
    notes = list(notes)
    if not unit_text:
        return Reading(value, tuple(notes))
    prefixed = None if answer.unit else _PREFIXED_COUNT.search(unit_text) or _SYMBOL_PREFIXED_COUNT.search(unit_text)
    if prefixed and _MICRO_SYMBOL.fullmatch(prefixed.group(0)):
        unit_text = _MICRO_SYMBOL.sub(r"micro-\1", unit_text)  # 'µsteps': micro-steps, a label
    elif prefixed and _MICRO_TERM.fullmatch(prefixed.group(0)):
        unit_text = _MICRO_TERM.sub(r"micro-\1", unit_text)  # 'microsteps': micro-steps, a label
    elif prefixed:
        raise ParseError(f"{prefixed.group(0)!r}: {prefixed.group(1)!r} multiplies the number: write the number in "
                         f"full (as 1.5e9) or with thousand, million, billion or trillion")
    per = re.sub(r"\s*/\s*", " per ", unit_text)  # 'steps/epoch', 'tokens/batch': a count of one per one
    if not answer.unit and unit_text.count("/") == 1 and _WORDS.fullmatch(per) and not _multiplier(per) \
            and _is_label(per):
        return Reading(value, tuple(notes))
    if not answer.unit and unit_text.lower() in ("x", "×", "times", "ψ", "psi"):
        return Reading(value, tuple(notes))  # a ratio, or a count in units of Ψ (never a pressure here)
    if not answer.unit and _WORDS.fullmatch(unit_text) and _multiplier(unit_text) \
            and re.sub(r"s$", "", _multiplier(unit_text).lower()) in _MAGNITUDES:  # 'thousand million'
        raise ParseError(f"a second number word ({unit_text!r}) is not read: write one number word (as 68.3 "
                         f"billion) or the number in full (as 6.83e10)")
    if not answer.unit and _WORDS.fullmatch(unit_text) and _multiplier(unit_text):
        raise ParseError(f"{_multiplier(unit_text)!r} multiplies the number: write the number in full (as 1.5e9) "
                         f"or with thousand, million, billion or trillion")
    if not answer.unit and _is_label(unit_text):
        return Reading(value, tuple(notes))  # a count named by what it counts: '7264 steps', '180 AllGathers'
    typed = unit_text  # (messages show the unit as the student typed it)
    if len(typed) > MAX_UNIT_TEXT:
        raise ParseError(f"the unit {_show(typed)} is too long")
    if answer.unit == "t" and _CO2E.search(unit_text):  # (the only part in tonnes is CO2e)
        unit_text = re.sub(r"(?i)^metric\s*(?=tonnes?$)", "", _CO2E.sub("", unit_text).strip()) or "t"
    elif answer.unit == "t":
        unit_text = re.sub(r"(?i)^metric\s*(?=tonnes?$)", "", unit_text)
    if "FLOP" in answer.unit and _OPS.search(unit_text):
        unit_text = _OPS.sub("FLOP", unit_text)
        notes.append(f"read {typed!r} as {unit_text}")
    unit_text = re.sub(r"(?<=[A-Za-z])\s*:\s*(?=[A-Za-z])", "/", unit_text)  # an ops:byte ratio
    if _TONS.fullmatch(unit_text):
        notes.append(f"read {typed!r} as metric tonnes (1 t = 1000 kg)")
    kilotons = _KILOTONS.fullmatch(unit_text)
    if kilotons:  # (pint's kiloton is 1000 short tons)
        unit_text = "kilotonne" if kilotons.group(1) else "megatonne"
        notes.append(f"read {typed!r} as metric {unit_text}s")
    unit_text = question_unit(unit_text)
    if unit_text == answer.unit and unit_text in ANSWER_UNITS:  # the unit the sheet names: nothing to convert
        return Reading(value, tuple(notes))
    key = _key_unit(answer.unit)
    readings, conventions = unit_readings(unit_text, answer.unit)
    notes += conventions if len(readings) == 1 else []  # (else the reading's note below says it all)
    try:
        units = [parse_unit(r) for r in readings]
    except ParseError as e:  # its message names the unit as typed, never as rewritten ('kiB' for a typed 'kib')
        named = re.search(r"'([^']*)'", str(e))
        if readings == [typed] or named and named.group(1) in typed:
            raise
        raise ParseError(f"cannot read the unit {_show(typed)} (write e.g. GB, GiB/s, TFLOP/s, h, days)") from None
    fits = [(r, u) for r, u in zip(readings, units) if _signature(u) == _signature(key)]
    if not fits:
        wanted = f"in {shown(answer.unit)}" if answer.unit else "a plain number (no unit)"
        raise ParseError(f"{typed!r} does not measure the same thing as this part's answer, which is {wanted}")
    factors = {_factor(u, answer.unit or "dimensionless") for _, u in fits}
    if len(factors) > 1:  # fitting readings that convert differently: refused, never guessed
        raise ParseError(f"{typed!r} can be read two ways ({' or '.join(_plain(r) for r, _ in fits)}): write "
                         f"the unit without plural s, as FLOP/s or GB/s")
    reading, unit = fits[0]  # several fitting readings of one factor ('TFLOPS/GBs': TFLOP/GB or TFLOP/s per GB/s)
    if len(readings) > 1:
        notes.append(f"read {typed!r} as {_plain(reading)}")
    factor = factors.pop()
    if factor == 1:  # the key's unit in other words (GPU-hours for hours, tokens for a count): nothing converted
        return Reading(value, tuple(notes))
    converted = Decimal(value) * factor
    if not math.isfinite(float(converted)):
        raise ParseError("this answer is too large to be a sensible answer")
    if not answer.convertible:
        return Reading(converted, tuple(notes), refused=f"the question asks for the answer in {shown(answer.unit)}; "
                                                        f"an answer in {typed} is not accepted")
    notes.append(f"converted {_number_text(value)} {typed} to {_number_text(converted)} "
                 f"{shown(answer.unit) or '(no unit)'}")
    return Reading(converted, tuple(notes))


def _plain(reading: str) -> str:
    """A reading as a student reads it: the grammar's parentheses around the whole dropped ('(TFLOP/s)' is
    TFLOP/s), any others kept ((TFLOP/s)/(TB/s) is not TFLOP/s/TB/s)."""
    return re.sub(r"^\(([^()]*)\)$", r"\1", reading)


def _number_text(value: Decimal) -> str:
    return f"{float(value):.6g}"


def parse_number(answer: Answer, text: Any) -> Reading:
    """A `number` answer: a float in the key's unit."""
    reading = read_quantity(answer, text)
    return Reading(float(reading.value), reading.notes, reading.refused)


def parse_integer(answer: Answer, text: Any) -> Reading:
    """An `integer` answer: an exact int when the text is integral, else a float (which will not match)."""
    reading = read_quantity(answer, text)
    value = reading.value
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() and abs(value) < 10**30 else float(value)
    elif float(value).is_integer():
        value = int(value)
    return Reading(value, reading.notes, reading.refused)


# ---- vectors and matrices --------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+")
_SHORT_INTEGER = re.compile(r"[+-]?\d{1,29}")        # below 10^30: no range check needed
_SHORT_DECIMAL = re.compile(r"[+-]?\d{1,15}\.\d{1,15}")  # always finite
_ENTRY = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
_BMATRIX = re.compile(r"^\\begin\{[bpvBV]?matrix\}(.*)\\end\{[bpvBV]?matrix\}$", re.S)


def _entry(text: str) -> int | float:
    raw = text
    text = text.strip()
    if _SHORT_INTEGER.fullmatch(text):  # the common cases first, as the general path below reads them
        return int(text)
    if _SHORT_DECIMAL.fullmatch(text):
        return float(text)
    if not text.isascii():
        text = text.translate(_MINUS)
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity", "∞"):
        raise ParseError(f"{_show(raw)} is not a finite number")
    if not _ENTRY.fullmatch(text):
        raise ParseError(f"{_show(raw)} is not a number (an entry is a plain number such as -1.25 or 3e-2)")
    if _INTEGER.fullmatch(text):
        value: int | float = int(text)
        if abs(value) >= 10**30:
            raise ParseError(f"{_show(raw)} is too large to be a sensible answer")
        return value
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"{_show(raw)} is too large to be a sensible answer")
    return value


def _bracketed(text: str) -> list:
    """'[[1, 2], [3, 4]]' or '[1, 2, 3]' (also with ( ) and ;) as nested lists of entry text."""
    tokens = re.findall(r"[\[\]()]|[^\[\](),;\s]+|[,;]", text)
    pos = 0

    def item(depth: int):
        nonlocal pos
        if pos >= len(tokens):
            raise ParseError("the matrix ends too early (a missing ']'?)")
        token = tokens[pos]
        if token in "[(":
            if depth >= 2:
                raise ParseError("too many levels of brackets (a matrix is a list of rows)")
            closing = "]" if token == "[" else ")"
            pos += 1
            items = []
            while pos < len(tokens) and tokens[pos] != closing:
                if tokens[pos] in ",;":
                    pos += 1
                    continue
                if tokens[pos] in "])":
                    raise ParseError("mismatched brackets")
                items.append(item(depth + 1))
            if pos >= len(tokens):
                raise ParseError(f"a missing {closing!r}")
            pos += 1
            return items
        if token in "])":
            raise ParseError("mismatched brackets")
        pos += 1
        return token

    value = item(0)
    if pos != len(tokens):
        raise ParseError("unexpected text after the closing bracket")
    return value


def _entries_of(row: list) -> list:
    """A row's entries, an entry of text holding several ('0 0 1', as a sheet's YAML reads [0 0 1]) split."""
    out: list = []
    for entry in row:
        out += [e for e in re.split(r"[,\s]+", entry.strip()) if e] if isinstance(entry, str) else [entry]
    return out


def holds_row(entry: Any) -> bool:
    """Whether a list item from a sheet is a row of several numbers ('2 0 1') rather than one entry."""
    return isinstance(entry, str) and len(re.split(r"[,\s]+", entry.strip())) > 1


_OVER_LINES = ("this answer is written over several lines, which YAML joins into one line: separate the rows "
               "with ';' (1 -2; 0 3), or write '|' after the colon and the rows on the lines below it")


_MATLAB_ROWS = re.compile(r"\[[^\[\]]*;[^\[\]]*\]")
_BARE_ROWS = re.compile(r"\[[^\[\]]*\](?:\s*,\s*\[[^\[\]]*\])+")
_ROW_SEPARATOR, _ENTRY_SEPARATOR = re.compile(r"[;\n]|\\\\"), re.compile(r"[,\s&]+")


def _rows(value: Any) -> list[list[Any]]:
    """Rows of entry text (or numbers) from any accepted spelling; on a sheet YAML reads brackets as lists,
    so [0 0 1; 1 0 0] arrives as ['0 0 1; 1 0 0'] and [[0 0 1], [1 0 0]] as [['0 0 1'], ['1 0 0']]. A text the
    sheet typed over several lines (sheet.Folded) is read by those lines, the way ';' separates rows."""
    if isinstance(value, (list, tuple)) and any(getattr(v, "lines", None) is not None for v in value):
        if len(value) != 1:  # [1, -2, 0 <newline> 0, 1, -1]: YAML made '0 0' one entry, the rows are lost
            raise ParseError(_OVER_LINES)
        value = value[0]
    lines = getattr(value, "lines", None)
    if lines is not None:
        if not lines:
            raise ParseError(_OVER_LINES)
        value = "\n".join(lines)
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, str) and ";" in v for v in value) and not any(isinstance(v, (list, tuple))
                                                                           for v in value):
            return _rows(", ".join(map(str, value)))  # [a b; c d] or [a, b; c, d]: rows by ';' inside
        if value and all(isinstance(r, (list, tuple)) for r in value):
            return [_entries_of(list(r)) for r in value]
        if any(isinstance(r, (list, tuple)) for r in value):
            raise ParseError("mix of rows and single entries")
        if any(holds_row(v) for v in value):  # a sheet's '- 2 0 1' lines, or [2 0 1, 0 0 3]: a string each row
            return [_entries_of([v]) for v in value]
        return [_entries_of(list(value))]
    text = clean(_bounded(value)).replace("\r\n", "\n").replace("\r", "\n")
    m = _BMATRIX.match(text)
    if m:
        body = m.group(1)
        return [[c for c in row.split("&")] for row in body.split("\n") if row.strip()]
    if text.startswith("[") and _MATLAB_ROWS.fullmatch(text):  # [a b; c d]: MATLAB's rows by ';'
        return _rows(text[1:-1])
    if text.startswith("[") and _BARE_ROWS.fullmatch(text):  # [a, b], [c, d]: the rows, no outer pair
        return _rows(f"[{text}]")
    if text.startswith(("[", "(")):
        nested = _bracketed(text)
        if not isinstance(nested, list):
            raise ParseError("expected a list in brackets")
        return _rows(nested)
    if "[" in text or "]" in text:
        raise ParseError("mismatched brackets")
    rows = [row for row in _ROW_SEPARATOR.split(text) if row.strip()]
    return [[c for c in _ENTRY_SEPARATOR.split(row.strip()) if c] for row in rows]


def _numbers(rows: list[list[Any]]) -> list[list[int | float]]:
    if sum(len(r) for r in rows) > MAX_ENTRIES:
        raise ParseError(f"too many entries (at most {MAX_ENTRIES})")
    out = []
    for r, row in enumerate(rows):
        out.append([])
        for c, v in enumerate(row):
            try:
                out[-1].append(_entry(v if isinstance(v, str) else _bounded(v)))
            except ParseError as e:  # which entry, where there are several
                where = f"row {r + 1}, column {c + 1}" if len(rows) > 1 and len(row) > 1 else f"entry {max(r, c) + 1}"
                raise ParseError(f"{where}: {e}" if len(rows) > 1 or len(row) > 1 else str(e)) from None
    return out


def parse_matrix(answer: Answer, value: Any) -> Reading:
    """Rows by ';' or newlines, entries by ',' or whitespace; or [[1, 2], [3, 4]]; or a LaTeX bmatrix."""
    lined = getattr(value, "rows", None)  # a sheet's [1, -2, 0, / 0, 1, -1]: its lines are the rows
    if lined is None and isinstance(value, str) and "\n" in value:
        text = clean(_bounded(value)).replace("\r", "\n")
        if re.fullmatch(r"\[[^\[\]]*\n[^\[\]]*\]", text):  # the same typed in a '|' block or at a prompt
            lined = text[1:-1]
    rows = _numbers(_rows(value if lined is None else lined))
    if not rows or not rows[0]:
        raise ParseError("no answer")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        counts = ", ".join(str(len(r)) for r in rows)
        raise ParseError(f"the rows have different numbers of entries ({counts}); a matrix is rectangular"
                         + ("; its lines were read as rows: separate the rows with ';' (1 -2; 0 3)" if lined else ""))
    return Reading(rows)


# A shape as people write one: 3328 x 4224, (3328 × 4224), 3328 by 4224 (whole numbers only: 1.5 x 10^3 is a number)
_SHAPE = re.compile(r"\(?\s*\d+(?:\s*(?:x|×|\*|by)\s*\d+)+\s*\)?", re.I)
_SHAPE_SEPARATOR = re.compile(r"\s*(?:x|×|\*|by)\s*", re.I)


def parse_vector(answer: Answer, value: Any) -> Reading:
    """Entries by ',', ';', whitespace or newlines; or [1, 2, 3]; a single row or a single column; or a shape
    written with x, × or 'by' between whole numbers."""
    if isinstance(value, str):
        text = clean(_bounded(value))
        if _SHAPE.fullmatch(text):
            return Reading([int(n) for n in _SHAPE_SEPARATOR.split(text.strip("() "))])
    rows = _numbers(_rows(value))
    if not rows or not any(rows):
        raise ParseError("no answer")
    if len(rows) == 1:
        return Reading(rows[0])
    if all(len(r) == 1 for r in rows):
        return Reading([r[0] for r in rows])
    raise ParseError("expected a vector (one row or one column), got a matrix")


# ---- choices and expressions -----------------------------------------------------------------------


def _choice_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "-", text.strip().strip("'\"`.$").strip().lower())


def parse_choice(answer: Answer, value: Any) -> Reading:
    """Case-insensitive, trimmed; spaces, '-' and '_' are the same ('Compute bound' = 'compute-bound')."""
    text = clean(_bounded(value, 200))
    if not text:
        raise ParseError("no answer")
    wanted = _choice_key(text)
    for choice in answer.choices:
        if _choice_key(choice) == wanted:
            return Reading(choice)
    typed = str(value).strip()  # as typed, never as cleaned nor repr-escaped ('$8\\,N_{\\text{layer}}$')
    typed = typed if len(typed) <= 40 else typed[:40] + "…"
    raise ParseError(f"'{typed}' is not one of the choices: {', '.join(answer.choices)}")


def parse_expression_answer(answer: Answer, value: Any) -> Reading:
    """An expression over the question's symbols (expr.py's grammar)."""
    from exgen.grading.compare import expression_symbols
    from exgen.grading.expr import ExpressionError, parse_expression, symbol_table

    text = clean(_bounded(value, 2000)).replace("×", "*")
    if not text:
        raise ParseError("no answer")
    try:
        return Reading(parse_expression(text, symbol_table(expression_symbols(answer))))
    except ExpressionError as e:
        raise ParseError(str(e)) from None
    except RecursionError:
        raise ParseError("the expression is nested too deeply") from None


def read_printed_expression(answer: Answer, value: Any) -> Reading:
    """An expression typed as a multiple-choice option prints it ('24 N_layer D^2', '$24\\,N_{\\text{layer}}\\,D^{2}$',
    '24 N layer D^2'): a symbol's subscript in LaTeX or spaced is the symbol, braces are parentheses, and a space
    before a symbol or '(' is a product (never before a number: '24 000', or 'D 2' that lost its '^'). Only for
    matching a printed option, whose letter is what is graded; a free-response expression still needs its '*'."""
    from exgen.grading.compare import expression_symbols

    text = clean(_bounded(value, 2000)).replace("×", "*").replace("\\_", "_")
    for symbol in sorted(expression_symbols(answer), key=len, reverse=True):
        base, _, sub = symbol.partition("_")
        if sub:  # N_{layer}, N_{ layer}, N layer, N_layer
            base, sub = re.escape(base), re.escape(sub)
            text = re.sub(rf"(?<![\w]){base}\s*_?\s*(?:\{{\s*{sub}\s*\}}|{sub})(?![\w])", symbol, text)
    text = text.replace("{", "(").replace("}", ")")
    text = re.sub(r"(?<=[A-Za-z0-9_)])\s+(?=[A-Za-z_(])", "*", text)  # ('D 2' stays unread: a lost superscript?)
    return parse_expression_answer(answer, text)


PARSERS = {"number": parse_number, "integer": parse_integer, "vector": parse_vector, "matrix": parse_matrix,
           "choice": parse_choice, "expression": parse_expression_answer}


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return clean(value[:MAX_TEXT]) == "" if len(value) <= MAX_TEXT else False
    if isinstance(value, (list, tuple)):
        return all(is_blank(v) for v in value)
    return False


def parse_answer(answer: Answer, value: Any) -> Reading:
    """Dispatch on the key's kind. Returns a Reading or raises ParseError — nothing else."""
    try:
        return PARSERS[answer.kind](answer, value)
    except ParseError:
        raise
    except (ArithmeticError, RecursionError, ValueError, TypeError) as e:  # a gap in a grammar above
        raise ParseError(f"could not read this answer ({type(e).__name__})") from None
