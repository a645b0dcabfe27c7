"""Reading student answers: the spellings people type, hostile input, and the rule that a parser only ever
returns a value or its own error (never executes, never crashes, never hangs)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exgen.grading.compare import matches
from exgen.grading.expr import ExpressionError, equivalent, parse_expression
from exgen.grading.grade import grade_part
from exgen.grading.parse import ParseError, parse_answer
from exgen.grading.sheet import SubmissionError, parse_sheet, read_submission
from exgen.problem import Answer, Part

NUMBER = Answer("number", 7.3e22, sig=2)
HOURS = Answer("number", 64.8, unit="h", sig=3)
GB = Answer("number", 51.5, unit="GB", sig=3)
GB_ONLY = Answer("number", 51.5, unit="GB", sig=3, convertible=False)
THROUGHPUT = Answer("number", 312.0, unit="TFLOP/s", sig=3)
RATIO = Answer("number", 0.42, sig=2)
INTEGER = Answer("integer", -1)
MATRIX = Answer("matrix", [[1, -2, 0], [3, 4, 5]])
SQUARE = Answer("matrix", [[1, 2], [3, 4]])
VECTOR = Answer("vector", [1.5, -2.0], sig=3)
CHOICE = Answer("choice", "compute-bound", choices=("memory-bound", "compute-bound"))
EXPRESSION = Answer("expression", "24*L*D^2")


def verdict(answer: Answer, text) -> str:
    return grade_part("1.x", Part("x", "x", answer), text).verdict


# ---- spellings of a number ----------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "7.3e22", "7.3E+22", "7.3 × 10^22", "7.3*10^22", "7.3x10^22", "7.3 x 10^22", r"7.3\times 10^{22}",
    r"$7.3 \times 10^{22}$", "7.3·10^(22)", "7.3×10²²", "73e21", "7.3 \u2009× 10^22", "7.3e22\n", "  7.3e22  ",
    "7,3e22", "7.3 * 10**22", r"$$7.3\cdot10^{22}$$", "7.3e+022",
])
def test_the_spellings_people_type_are_all_read_as_the_same_number(text):
    assert verdict(NUMBER, text) == "correct"


@pytest.mark.parametrize("text,value", [
    ("\u22127.3", -7.3), ("−7.3", -7.3), ("+7.3", 7.3), (".5", 0.5), ("3/4", 0.75), ("10^3", 1000.0),
    ("1,234,567.5", 1234567.5), ("1 234 567", 1234567.0), ("2,5", 2.5), ("0,125", 0.125), ("2,50", 2.5),
    ("1e-3", 0.001),
])
def test_number_values(text, value):
    assert parse_answer(Answer("number", 1.0), text).value == pytest.approx(value)


def test_a_comma_followed_by_three_digits_is_ambiguous_and_refused_with_advice():
    with pytest.raises(ParseError, match="ambiguous.*1234 or 1.234"):
        parse_answer(NUMBER, "1,234")


def test_a_decimal_comma_is_reported_in_the_feedback():
    result = grade_part("1.x", Part("x", "x", Answer("number", 2.5, sig=2)), "2,5")
    assert result.verdict == "correct" and "decimal comma" in result.message


# ---- units ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("answer,text,expected", [
    (HOURS, "64.8", "correct"),                # no unit: the key's unit is meant
    (HOURS, "2.7 days", "correct"),
    (HOURS, "233280 s", "correct"),
    (HOURS, "3888 min", "correct"),
    (HOURS, "64.8 GB", "invalid"),             # a size is not a time
    (GB, "48 GiB", "correct"),                 # 48 GiB = 51.54 GB: another unit of the same dimension
    (GB, "412 Gbit", "correct"),
    (GB, "51.5 GB/s", "invalid"),
    (GB_ONLY, "48 GiB", "wrong"),              # the key accepts GB only
    (GB_ONLY, "51.5 GB", "correct"),
    (THROUGHPUT, "312 TFLOP/s", "correct"),
    (THROUGHPUT, "312 TFLOPS", "correct"),
    (THROUGHPUT, "3.12e14 FLOP/s", "correct"),
    (THROUGHPUT, "312 TFLOP per s", "correct"),
    (THROUGHPUT, "312 TFLOP", "invalid"),
    (THROUGHPUT, "312 TFLOP^99999", "invalid"),
    (RATIO, "42%", "correct"),
    (RATIO, "0.42 GB", "invalid"),             # bytes are not a plain number (pint calls them dimensionless)
    (NUMBER, "7.3e22 furlongs", "invalid"),
    (NUMBER, "7.3e22 __import__", "invalid"),
    (NUMBER, "7.3e22 m**9**9**9", "invalid"),
])
def test_units(answer, text, expected):
    assert verdict(answer, text) == expected


PF_DAYS = Answer("number", 53.2, unit="PFLOP/s*day", sig=3)
GPU_HOURS = Answer("number", 245760.0, unit="hour", sig=4)
CARBON = Answer("number", 25.8, unit="t", sig=3)
PARAMS = Answer("number", 4.68e10, sig=3)
GPUS = Answer("integer", 3)
IN_PSI = Answer("number", 1.96, sig=3)


@pytest.mark.parametrize("answer,text,expected", [
    (PARAMS, "46.8 billion", "correct"),         # the number words the questions write ("a 46.8-billion-...")
    (PARAMS, "46.8-billion", "correct"),
    (PARAMS, "46800 million", "correct"),
    (PARAMS, "0.0468 trillion", "correct"),
    (PARAMS, "4.68e10 params", "correct"),       # what the answer counts
    (PARAMS, "4.68e10 parameters", "correct"),
    (PARAMS, "46.8 billion parameters", "correct"),
    (PARAMS, "46.8 million", "wrong"),
    (PARAMS, "46.8 bn", "correct"),              # was read as 46.8 counted in 'bn' (a label), and marked wrong
    (PARAMS, "46.8bn parameters", "correct"),
    (PARAMS, "46.8B", "correct"),                # the field's 70B: a count's B is a billion, never bytes
    (PARAMS, "0.0468T", "correct"),
    (GB, "51.5e9 B", "correct"),                 # where the key has a unit, B stays bytes
    (GPUS, "3 GPUs", "correct"),
    (Answer("number", 731.0, sig=3), "731 tokens/param", "correct"),
    (Answer("number", 7.95e11, sig=3), "7.95e11 tokens", "correct"),
    (PF_DAYS, "53.2 PF-days", "correct"),       # the unit as the question names it (pint's PF is a petafarad)
    (PF_DAYS, "53.2 PF-day", "correct"),
    (PF_DAYS, "53.2 petaflop/s-days", "correct"),
    (GPU_HOURS, "245760 GPU-hours", "correct"),
    (GPU_HOURS, "245760 GPU-h", "correct"),
    (GPU_HOURS, "10240 GPU-days", "correct"),
    (CARBON, "25.8 tCO2e", "correct"),
    (CARBON, "25.8 t CO2eq", "correct"),
    (CARBON, "25.8 tonnes CO2e", "correct"),
    (IN_PSI, "1.96 Psi", "correct"),             # an answer in units of Ψ; a pressure is never a plain number here
    (IN_PSI, "1.96Ψ", "correct"),
    (IN_PSI, "1.96 GB", "invalid"),
    (GPUS, "3 gpus", "correct"),                 # a count named by what it counts
    (GPUS, "3 optimizer steps", "correct"),
    (GPUS, "3 micro-batches", "correct"),
    (GPUS, "3 AllGathers", "correct"),
    (GPUS, "3 trainable parameters", "correct"),
    (GPUS, "3 s", "invalid"),                    # a unit is still a unit
    (Answer("number", 4.064, unit="bit", sig=4), "4.064 bits per weight", "correct"),
    (Answer("number", 0.00508, unit="percent", sig=3), "0.00508 pct", "correct"),
])
def test_the_words_and_units_the_questions_use_are_read(answer, text, expected):
    assert verdict(answer, text) == expected


COUNT_FLOP = Answer("number", 3.2e21, unit="FLOP", sig=3)


@pytest.mark.parametrize("answer,text,expected", [
    (THROUGHPUT, "312 tflops", "correct"),       # FLOP words in lowercase: the prefix letter is the decimal prefix
    (THROUGHPUT, "312 tflop/s", "correct"),
    (THROUGHPUT, "312 tflops/s", "correct"),     # flops as a plural count, per second
    (THROUGHPUT, "312 TFlops", "correct"),
    (THROUGHPUT, "312 TFLOPs", "correct"),       # a count does not fit a rate: the rate is meant
    (THROUGHPUT, "312 tera-FLOP/s", "correct"),
    (THROUGHPUT, "0.312 pflops", "correct"),     # p before flop is peta, never pico
    (THROUGHPUT, "312 pflops", "wrong"),
    (THROUGHPUT, "312 tflop", "invalid"),        # a singular flop is a count, never a rate
    (COUNT_FLOP, "3.2e21 flops", "correct"),     # a rate does not fit a count: the plural count is meant
    (COUNT_FLOP, "3.2e21 FLOPs", "correct"),
    (COUNT_FLOP, "3.2e21 FLOPS", "correct"),
    (COUNT_FLOP, "3.2e6 pflops", "correct"),
    (COUNT_FLOP, "3.2e6 pflop", "correct"),
    (COUNT_FLOP, "3.2 zettaflops", "correct"),
    (COUNT_FLOP, "3.2 ZFLOPs", "correct"),
    (COUNT_FLOP, "3.2e21 FLOP/s", "invalid"),
    (PF_DAYS, "53.2 pflop-days", "correct"),     # petaflop-days are petaflop/s-days
    (PF_DAYS, "53.2 petaflop-days", "correct"),
    (PF_DAYS, "53.2 PFLOPS-day", "correct"),
    (Answer("number", 2.5, unit="FLOP/byte", sig=2), "2.5 flops/byte", "correct"),
])
def test_flop_words_in_any_case_are_read_by_the_parts_dimension(answer, text, expected):
    assert verdict(answer, text) == expected


BANDWIDTH = Answer("number", 3350.0, unit="GB/s", sig=3)
ENERGY = Answer("number", 12.5, unit="MWh", sig=3)
TOKEN_RATE = Answer("number", 1500.0, unit="token/s", sig=3)
IN_BITS = Answer("number", 4.064, unit="bit", sig=4)
IN_MB = Answer("number", 4.0, unit="MB", sig=3)


@pytest.mark.parametrize("answer,text,expected", [
    (GB, "51.5 gb", "correct"),                  # all-lowercase gb where the key is in bytes: gigabytes
    (GB, "51.5gb", "correct"),
    (GB, "48 gib", "correct"),
    (IN_MB, "4 mb", "correct"),                  # (m is mega here: a millibyte is never an answer)
    (IN_MB, "4000 kb", "correct"),
    (GB, "412 gbit", "correct"),                 # bits in any case are bits
    (GB, "51.5 Gb", "wrong"),                    # Gb is the gigabit (converted: 6.44 GB)
    (GB, "51.5 GBs", "correct"),                 # a plural GB ...
    (BANDWIDTH, "3350 GBs", "correct"),          # ... or GB per second: the part's dimension decides
    (BANDWIDTH, "3350 GBps", "correct"),
    (BANDWIDTH, "3.35 TBps", "correct"),
    (BANDWIDTH, "3.35 tb/s", "correct"),
    (BANDWIDTH, "3350 gb/s", "correct"),
    (BANDWIDTH, "3350 GB/sec", "correct"),
    (BANDWIDTH, "26800 Gbps", "correct"),        # gigabits per second, converted
    (BANDWIDTH, "3350 gbps", "invalid"),         # gigabits in networking, gigabytes to some: refused
    (IN_BITS, "4.064e-9 gb", "invalid"),         # in a part asked in bits, gb could be either
    (ENERGY, "12.5 mwh", "correct"),             # a lowercase m before Wh is mega (a milliwatt-hour is never asked)
    (ENERGY, "12500 kwh", "correct"),
    (ENERGY, "12.5 MWH", "correct"),
    (TOKEN_RATE, "1500 tok/s", "correct"),
    (TOKEN_RATE, "1500 tokens/sec", "correct"),
    (TOKEN_RATE, "1500 tokens per second", "correct"),
    (GPU_HOURS, "245760 GPU hours", "correct"),
    (GPU_HOURS, "245760 gpu hours", "correct"),
    (GPU_HOURS, "245760 gpu-hrs", "correct"),
])
def test_byte_energy_and_rate_units_as_people_type_them(answer, text, expected):
    assert verdict(answer, text) == expected


@pytest.mark.parametrize("answer,text,advice", [
    (BANDWIDTH, "3350 gbps", "write GB/s for gigabytes or Gbit/s for gigabits"),
    (IN_BITS, "4.064e-9 gb", "write GB for gigabytes or Gbit for gigabits"),
])
def test_a_byte_word_that_could_be_bits_is_refused_with_advice(answer, text, advice):
    result = grade_part("1.x", Part("x", "x", answer), text)
    assert result.verdict == "invalid" and advice in result.message


@pytest.mark.parametrize("answer,text,read", [(GB, "51.5 gb", "'gb' as GB"), (ENERGY, "12.5 mwh", "'mwh' as MWh"),
                                              (BANDWIDTH, "3350 GBs", "'GBs' as GB/s")])
def test_the_feedback_says_how_a_lowercase_or_plural_unit_was_read(answer, text, read):
    result = grade_part("1.x", Part("x", "x", answer), text)
    assert result.verdict == "correct" and f"read {read}." in result.message


COUNT = Answer("number", 1500.0, sig=3)
POWER_OF_TWO = Answer("integer", 4096)


@pytest.mark.parametrize("answer,text,expected", [
    (COUNT, "1.5k", "correct"),                  # a lowercase k after a count, as the uppercase K
    (COUNT, "1.5 k", "correct"),
    (COUNT, "1.5 k tokens", "correct"),
    (TOKEN_RATE, "1.5k tokens/s", "correct"),    # a factor before the unit
    (TOKEN_RATE, "1.5 K tok/s", "correct"),
    (TOKEN_RATE, "0.0015M tokens/s", "correct"),
    (TOKEN_RATE, "1.5k", "invalid"),             # alone, only for a count (where the key has no unit)
    (PARAMS, "46.8B parameters", "correct"),
    (GB, "51.5 B", "wrong"),                     # where the key has a unit, B stays bytes
    (POWER_OF_TWO, "4Ki", "correct"),            # binary prefixes after a count: 4 × 2^10
    (POWER_OF_TWO, "4 Ki", "correct"),
    (POWER_OF_TWO, "4Ki tokens", "correct"),
    (POWER_OF_TWO, "4k", "wrong"),               # 4k is 4000
    (Answer("integer", 2**31), "2Gi", "correct"),
    (Answer("integer", 2**31, unit="B"), "2 GiB", "correct"),
    (Answer("number", 2.0, unit="GB", sig=3), "2 GiB", "wrong"),   # 2 GiB is 2.15 GB: converted, never equated
    (Answer("number", 2.15, unit="GB", sig=3), "2 GiB", "correct"),
])
def test_a_factor_after_a_count_k_or_a_binary_prefix_is_read(answer, text, expected):
    assert verdict(answer, text) == expected


@pytest.mark.parametrize("answer,text,read", [(COUNT, "1.5k", "'k' as × 10^3"),
                                              (POWER_OF_TWO, "4Ki", "'Ki' as × 2^10")])
def test_the_feedback_says_how_a_factor_was_read(answer, text, read):
    result = grade_part("1.x", Part("x", "x", answer), text)
    assert result.verdict == "correct" and f"read {read}." in result.message


CO2 = Answer("number", 3326.6, unit="t", sig=5)
IN_BYTES = Answer("integer", 368640, unit="B")
BITS_COUNT = Answer("integer", 192, unit="bit")


@pytest.mark.parametrize("answer,text,expected", [
    (CO2, "3.2486 Kibit", "invalid"),            # was 'converted 3.2486 Kibit to 3326.57 tonnes CO2e': pint's kibit
    (CO2, "3.2486 Kib", "invalid"),              # is a kibi-tonne, its Kib a kibi-barn
    (CO2, "3.2486 kib", "invalid"),
    (CO2, "3.2486 Kit", "invalid"),              # a binary prefix is for bits and bytes only
    (IN_BYTES, "360 KiB", "correct"),            # a binary prefix stays binary and capital ('kiB' was unknown)
    (IN_BYTES, "360 kiB", "correct"),
    (IN_BYTES, "360 kib", "correct"),
    (IN_BYTES, "360 Kib", "wrong"),              # kibibits: 46080 bytes
    (GB, "47.96 GiB", "correct"),
    (GB, "47.96 gib", "correct"),
    (BITS_COUNT, "0.1875 Kibit", "correct"),     # was refused: 'does not measure the same thing'
    (BITS_COUNT, "0.1875 Kib", "correct"),
])
def test_a_binary_prefix_is_binary_and_never_reads_a_unit_of_another_dimension(answer, text, expected):
    assert verdict(answer, text) == expected


@pytest.mark.parametrize("text,advice", [("0.192 kb", "write kB for kilobytes or kbit for kilobits"),
                                         ("0.1875 kib", "write KiB for kibibytes or Kibit for kibibits")])
def test_the_bits_or_bytes_advice_names_the_prefix_typed(text, advice):
    result = grade_part("1.x", Part("x", "x", BITS_COUNT), text)
    assert result.verdict == "invalid" and advice in result.message


BILLIONS = Answer("number", 3.66e9, sig=3)
SEVENTEEN = Answer("number", 17.0, sig=2)


@pytest.mark.parametrize("answer,text,expected", [
    (BILLIONS, "3.66 billions", "correct"),      # a plural number word is its factor (was 'off by 10^-9')
    (BILLIONS, "3658 millions", "correct"),
    (BILLIONS, "3.66 Btokens", "correct"),       # K/M/B/G/T glued to what the count counts: 10^9 tokens
    (BILLIONS, "3.66 Gtokens", "correct"),
    (BILLIONS, "3.66 B-params", "correct"),
    (COUNT, "1.5 Ktokens", "correct"),
    (COUNT, "1.5 K-tokens", "correct"),
    (COUNT, "1.5 k-tokens", "correct"),
    (COUNT, "15 hundred", "correct"),
    (SEVENTEEN, "17 Btokens", "wrong"),          # each was graded as the bare 17, correct, without a word
    (SEVENTEEN, "17 billions", "wrong"),
    (SEVENTEEN, "17 mega", "invalid"),           # a multiplier not read is refused, never dropped
    (SEVENTEEN, "17 giga", "invalid"),
    (SEVENTEEN, "17 Mega tokens", "invalid"),
    (SEVENTEEN, "17 mega-tokens", "invalid"),
    (SEVENTEEN, "17 crore", "invalid"),
    (SEVENTEEN, "17 dozen", "invalid"),
    (SEVENTEEN, "17 thousand million", "invalid"),
    (SEVENTEEN, "17 mtokens", "invalid"),        # m is milli: refused, not read as a million
    (SEVENTEEN, "17 optimizer steps", "correct"),  # a label that cannot multiply is still a label
    (SEVENTEEN, "17 micro-batches", "correct"),
    (SEVENTEEN, "17 AllGathers", "correct"),
    (SEVENTEEN, "17 GPUs", "correct"),
    (SEVENTEEN, "17 Tokens", "correct"),
])
def test_a_word_that_multiplies_scales_the_number_or_is_refused_never_dropped(answer, text, expected):
    assert verdict(answer, text) == expected


def test_a_refused_multiplier_says_why():
    result = grade_part("1.x", Part("x", "x", SEVENTEEN), "17 dozen")
    assert "'dozen' multiplies the number: write the number in full" in result.message


TONNES = Answer("number", 11.44, unit="t", sig=4)


@pytest.mark.parametrize("text", ["11.44 tons", "11.44 ton", "11.44 metric tons", "11.44 tons CO2e",
                                  "11.44 metric tons of CO2"])
def test_tons_of_co2e_are_metric_tonnes_and_the_feedback_says_so(text):
    """pint's ton is the US short ton (0.907 t): '11.44 tons' was converted to 10.38 t and marked wrong."""
    result = grade_part("1.x", Part("x", "x", TONNES), text)
    assert result.verdict == "correct" and "as metric tonnes" in result.message


@pytest.mark.parametrize("text,expected", [("0.01144 ktons", "correct"), ("0.01144 kilotons", "correct"),
                                           ("0.00001144 Mtons", "correct"), ("0.01144 kilotonnes", "correct"),
                                           ("1.144e-8 Gtons", "invalid"), ("11440 mtons", "invalid")])
def test_kilotons_are_metric_and_no_prefix_reaches_the_short_ton(text, expected):
    """'ktons' was 1000 US short tons (0.01144 ktons = 10.38 t, marked wrong after a silent conversion)."""
    assert verdict(TONNES, text) == expected


RATIO_FLOP = Answer("number", 8930.0, unit="FLOP/byte", sig=3)


@pytest.mark.parametrize("text", ["8.93 TFLOPS/GBs", "8.93 tflops/gbs", "8.93 TFLOPs/TBs"])
def test_two_fitting_readings_that_give_the_same_value_are_one(text):
    """TFLOPS/GBs is TFLOP/GB or TFLOP/s per GB/s: both 1000 FLOP/byte (it was refused as not fitting)."""
    key = RATIO_FLOP if "GB" in text or "gb" in text else Answer("number", 8.93, unit="FLOP/byte", sig=3)
    assert verdict(key, text) == "correct"


def test_a_reading_note_keeps_the_parentheses_that_group_a_divisor():
    result = grade_part("1.x", Part("x", "x", Answer("number", 8.93, unit="FLOP/byte", sig=3)), "8.93 TFLOPS/TBps")
    assert result.verdict == "correct" and "(TFLOP/s)/(TB/s)" in result.message


@pytest.mark.parametrize("text", ["2^12", "2**12", "2^{12}", "2^(12)", "2¹²", "$2^{12}$", "4 × 2^10", "4*2^10",
                                  "2^12 tokens", "1×2^{12}"])
def test_a_power_of_an_integer_is_read_exactly(text):
    reading = parse_answer(POWER_OF_TWO, text)
    assert reading.value == 4096 and isinstance(reading.value, int)


@pytest.mark.parametrize("text,value", [("2^-3", 0.125), ("-2^3", -8.0), ("3^2", 9.0), ("1.5 x 2^2", 6.0)])
def test_a_power_of_an_integer_as_a_number(text, value):
    assert parse_answer(Answer("number", 1.0), text).value == value


@pytest.mark.parametrize("text", ["2^99999", "2^-99999", "9^9^9", "2^3.5", "0^-1", "2^x", "2^123456"])
def test_a_power_is_bounded_before_it_is_computed(text):
    start = time.perf_counter()
    with pytest.raises(ParseError):
        parse_answer(POWER_OF_TWO, text)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("answer,text,read", [(THROUGHPUT, "312 tflops", "TFLOP/s"), (COUNT_FLOP, "3.2e21 flops", "FLOP")])
def test_the_feedback_says_how_a_flops_was_read(answer, text, read):
    result = grade_part("1.x", Part("x", "x", answer), text)
    assert result.verdict == "correct" and f"as {read}." in result.message


def test_no_question_asks_for_a_count_in_millions_or_billions():
    """A number word is read as its factor (46.8 billion = 4.68e10), which would mark a correct '46.8 billion'
    wrong where a part asked for a count *in billions*: no part of any variant does."""
    import re

    from exgen.generate import generate
    from exgen.render import Renderer
    from exgen.topics import TOPIC_NAMES, get

    in_words = re.compile(r"\bin (?:hundreds|thousands|millions|billions|trillions)\b", re.I)
    md = Renderer("md")
    for topic in TOPIC_NAMES:
        for variant in get(topic).variants:
            for difficulty in ("easy", "medium", "hard"):
                problem = generate(topic, variant.name, difficulty, 1)
                asked = [line for line in md.question(problem).splitlines() if line.startswith("**(")]
                asked += [part.label for part in problem.solution.parts]
                assert not [line for line in asked if in_words.search(line)], (topic, variant.name)


def test_unit_text_never_reaches_pints_expression_evaluator():
    # pint would happily evaluate '2**2**2**30 m'; our whitelist grammar only lets names and small powers by
    start = time.perf_counter()
    for text in ["1 m^2^2^2^2", "1 (((((m)))))", "1 " + "m*" * 50 + "m", "1 m**99", "1 m^(2)"]:
        with pytest.raises(ParseError):
            parse_answer(Answer("number", 1.0, unit="m"), text)
    assert time.perf_counter() - start < 1


# ---- invalid and hostile input ---------------------------------------------------------------------

HOSTILE = [
    "__import__('os')", "__import__('os').system('rm -rf /')", "().__class__", "().__class__.__bases__[0]",
    "9^9^9^9", "9**9**9**9", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400",
    "1e99999999999", "x" * 1_000_000, "(" * 5000 + "1" + ")" * 5000, "eval('1')", "lambda: 1", "{{7*7}}",
    "${7*7}", "<script>alert(1)</script>", "1; import os", "\x00", "\x1b[31m1", "",
]


@pytest.mark.parametrize("answer", [NUMBER, HOURS, INTEGER, MATRIX, VECTOR, CHOICE, EXPRESSION],
                         ids=lambda a: a.kind + (f"[{a.unit}]" if a.unit else ""))
def test_hostile_input_is_invalid_or_blank_never_an_exception_and_fast(answer):
    for text in HOSTILE:
        start = time.perf_counter()
        result = verdict(answer, text)
        assert result in ("invalid", "wrong"), (text[:40], result)
        assert result == "wrong" or text != "", text  # only the empty answer counts as a (blank) wrong
        assert time.perf_counter() - start < 1.0, text[:40]


def test_the_empty_answer_is_a_blank_not_an_invalid_one():
    result = grade_part("1.x", Part("x", "x", NUMBER), "   ")
    assert result.verdict == "wrong" and result.message == "No answer."


# ---- integers, vectors, matrices, choices --------------------------------------------------------

@pytest.mark.parametrize("text,expected", [("-1", "correct"), ("\u22121", "correct"), ("-1.0", "correct"),
                                           ("-1.4", "wrong"), ("-2", "wrong"), ("minus one", "invalid")])
def test_integers_are_exact(text, expected):
    assert verdict(INTEGER, text) == expected


@pytest.mark.parametrize("text,expected", [("9.6e-7 GFLOP", "correct"), ("0.96 kFLOP", "correct"),
                                           ("9.6e-4 MFLOP", "correct"), ("961 FLOP", "wrong"),
                                           ("0.9601 kFLOP", "wrong")])
def test_an_exact_count_in_another_unit_converts_exactly(text, expected):
    """9.6e-7 GFLOP is 960 FLOP; in floats it is 960.0000000000001, and an exact key refused a correct count."""
    assert verdict(Answer("integer", 960, unit="FLOP"), text) == expected


@pytest.mark.parametrize("text", [
    "1 -2 0; 3 4 5", "1,-2,0\n3,4,5", "1, -2, 0\r\n3, 4, 5\r\n", "[[1,-2,0],[3,4,5]]", "[[1, -2, 0], [3, 4, 5]]",
    r"\begin{bmatrix} 1 & -2 & 0 \\ 3 & 4 & 5 \end{bmatrix}", r"$\begin{pmatrix}1&-2&0\\3&4&5\end{pmatrix}$",
    "1 −2 0; 3 4 5", [["1", "-2", "0"], ["3", "4", "5"]],
])
def test_matrix_spellings(text):
    assert verdict(MATRIX, text) == "correct"


def test_a_transposed_non_square_matrix_is_wrong_and_says_transposed():
    result = grade_part("1.q", Part("q", "q", MATRIX), "1 3; -2 4; 0 5")
    assert result.verdict == "wrong" and result.points == 0 and "transpose" in result.message


def test_a_transposed_square_matrix_gets_credit_for_its_diagonal_and_says_transposed():
    result = grade_part("1.q", Part("q", "q", SQUARE), "1 3; 2 4")
    assert result.verdict == "partial" and result.points == pytest.approx(0.5) and "transpose" in result.message


@pytest.mark.parametrize("text,expected", [
    ("1 -2 0; 3 4", "invalid"),          # ragged
    ("1 -2; 3 4", "wrong"),              # rectangular, wrong shape
    ("[[1,-2,0],[3,4,5]", "invalid"),   # unbalanced
    ("[[[1]]]", "invalid"),
    ("1 nan 0; 3 4 5", "invalid"),
    ("1 a 0; 3 4 5", "invalid"),
    ("1 -2 0; 3 4 6", "partial"),
])
def test_matrix_errors(text, expected):
    assert verdict(MATRIX, text) == expected


@pytest.mark.parametrize("text,expected", [("1.5, -2", "correct"), ("[1.5, -2]", "correct"), ("1.5\n-2", "correct"),
                                           ("1.5; -2", "correct"), ("1.5 -2 7", "wrong"), ("1.5, -3", "partial")])
def test_vectors(text, expected):
    assert verdict(VECTOR, text) == expected


@pytest.mark.parametrize("text,expected", [("3328 x 4224", "correct"), ("3328×4224", "correct"),
                                           ("(3328 x 4224)", "correct"), ("3328 by 4224", "correct"),
                                           (r"3328 \times 4224", "correct"), ("4224 x 3328", "wrong"),
                                           ("1.5 x 10^3", "invalid")])
def test_a_shape_is_read_as_people_write_one(text, expected):
    """A review found "3328 x 4224" for the shape (3328, 4224) marked invalid."""
    assert verdict(Answer("vector", [3328, 4224]), text) == expected


@pytest.mark.parametrize("text,expected", [("compute-bound", "correct"), ("Compute Bound", "correct"),
                                           ("  COMPUTE_BOUND ", "correct"), ("memory-bound", "wrong"),
                                           ("compute", "invalid"), ("'compute-bound'", "correct")])
def test_choices_are_case_insensitive_and_trimmed(text, expected):
    assert verdict(CHOICE, text) == expected


# ---- expressions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("24*L*D^2", "correct"), ("24*L*D**2", "correct"), ("2*12*D*D*L", "correct"), ("(24*D^2)*L", "correct"),
    ("24·L·D²", "correct"), ("L*D^2*48/2", "correct"), ("12*L*D^2", "wrong"), ("24*L*D^3", "wrong"),
    ("24 L D^2", "invalid"),             # nothing implicit
    ("24*l*d^2", "invalid"),             # symbols are case-sensitive (and the message says so)
    ("24*L*D^2 + x", "invalid"), ("sqrt(L)", "invalid"), ("L.__class__", "invalid"),
])
def test_expressions(text, expected):
    assert verdict(EXPRESSION, text) == expected


def test_power_towers_are_refused_before_anything_is_computed():
    start = time.perf_counter()
    for text in ["9^9^9^9", "2^2^2^2^2", "(2^64)^64^64", "x^x^x^x", "10^(10^10)"]:
        with pytest.raises(ExpressionError):
            parse_expression(text, ["x"])
    assert time.perf_counter() - start < 1


def test_equivalence_is_exact_not_approximately_equal():
    p = lambda t: parse_expression(t, ["x", "b"])  # noqa: E731
    assert equivalent(p("(x+1)^2"), p("x^2 + 2*x + 1"))
    assert equivalent(p("x/(x+1)"), p("1 - 1/(x+1)"))
    assert equivalent(p("2^b - 1"), p("2*2^(b-1) - 1"))
    assert equivalent(p("x^0.5*x^0.5"), p("x"))
    assert not equivalent(p("(x+1)^30"), p("(x+1)^30 + 1e-30"))
    assert not equivalent(p("x^0.5"), p("x^0.5 + 1e-35"))


def test_a_mistakes_expression_text_is_matched_through_the_same_grammar():
    assert matches(EXPRESSION, "2*L*12*D^2") and not matches(EXPRESSION, "__import__('os')")


# ---- answer sheets ---------------------------------------------------------------------------------

def test_sheet_scalars_stay_text_whatever_yaml_1_1_would_guess():
    sub = parse_sheet("student: alice\n1.a: 7.3e22\n1.b: no\n1.c: 0x1F\n1.d: [[1, 2], [3, 4]]\n")
    assert sub.answers == {"1.a": "7.3e22", "1.b": "no", "1.c": "0x1F", "1.d": [["1", "2"], ["3", "4"]]}


@pytest.mark.parametrize("text,message", [
    ("student: a\n1.x: 1\n1.x: 2\n", "appears twice"),
    ("student: a\nx: &a [1]\ny: *a\n", "aliases"),
    ("1.x: 1\n", "does not name its student"),
    ("student: ''\n1.x: 1\n", "does not name its student"),
    ("- 1\n- 2\n", "not an answer sheet"),
    ("student: a\n1.x: [1, 2\n", "line"),
    ("student: a\n---\nstudent: b\n", "one answer sheet per file"),
    ("", "empty"),
])
def test_malformed_sheets_raise_their_own_error(text, message):
    with pytest.raises(SubmissionError, match=message):
        parse_sheet(text)


def test_python_tags_are_ignored_not_constructed():
    sub = parse_sheet("student: a\n1.x: !!python/object/apply:os.system ['echo hi']\n")
    assert sub.answers["1.x"] == ["echo hi"]


def test_crlf_and_bom_files_read_like_any_other(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbfstudent: alice\r\n1.x: 7.3e22\r\n1.q: 1 2\r\n")
    sub = read_submission(path)
    assert sub.student == "alice" and sub.answers == {"1.x": "7.3e22", "1.q": "1 2"}


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"\n\n  \n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"student: a\n1.x: \xff\xfe\n", "UTF-8"), (b"student: a\n1.x: " + b"9" * 600_000 + b"\n", "larger than"),
])
def test_unreadable_files_raise_their_own_error(tmp_path, content, message):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message):
        read_submission(path)


# ---- properties ------------------------------------------------------------------------------------

ANSWERS = [NUMBER, HOURS, GB_ONLY, THROUGHPUT, RATIO, INTEGER, MATRIX, VECTOR, CHOICE, EXPRESSION]
TYPED = st.text(alphabet=st.sampled_from(list("0123456789.,;eE+-−*/^×x ()[]{}$\\%\n\t_abLDhGBsTFLOPtime'\"")),
                max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ANSWERS), st.one_of(st.text(max_size=80), TYPED))
def test_parsers_only_ever_return_a_value_or_their_own_error(answer, text):
    try:
        reading = parse_answer(answer, text)
    except ParseError as e:
        assert str(e)
        return
    assert reading.value is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.+-*/^() LDxe")), max_size=60))
def test_the_expression_parser_only_returns_an_expression_or_its_own_error(text):
    try:
        parse_expression(text, ["L", "D", "x"])
    except ExpressionError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_the_sheet_reader_only_returns_a_submission_or_its_own_error(text):
    try:
        parse_sheet(text)
    except SubmissionError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
       st.sampled_from(["{:r}", "{:.6e}", "{:.6E}", "{:.6g}"]))
def test_a_float_written_any_standard_way_reads_back(value, fmt):
    text = repr(value) if fmt == "{:r}" else fmt.format(value)
    assert parse_answer(Answer("number", 1.0), text).value == pytest.approx(float(text), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("line", ["[0 0 1; 1 0 -1]", "[[0 0 1], [1 0 -1]]", "[[0, 0, 1], [1, 0, -1]]",
                                  "0 0 1; 1 0 -1", "[0,0,1;1,0,-1]",
                                  "[0, 0, 1], [1, 0, -1]", "[0 0 1], [1 0 -1]  # rows without the outer pair"])
def test_a_matrix_in_brackets_on_a_sheet_reads_as_in_exgen_check(line):
    """A review found [0 0 1; 1 0 -1] on an answer sheet marked invalid (YAML reads brackets as a list) while
    `exgen check` read it: the same text gets the same verdict wherever it is typed."""
    key = Answer("matrix", [[0, 0, 1], [1, 0, -1]])
    sheet = parse_sheet(f"student: a\n1.q: {line}\n")  # (YAML refused the bare rows, and the whole sheet)
    assert verdict(key, sheet.answers["1.q"]) == verdict(key, line.split("  #")[0]) == "correct"


def test_a_vector_in_brackets_on_a_sheet_reads_as_in_exgen_check():
    sheet = parse_sheet("student: a\n1.v: [1.5 -2]\n")
    assert verdict(VECTOR, sheet.answers["1.v"]) == verdict(VECTOR, "[1.5 -2]") == "correct"


@pytest.mark.parametrize("entry", [
    "|\n  1 -2 0\n  3 4 5",                  # a block keeps its newlines
    "1 -2 0\n  3 4 5",                       # a plain scalar over two lines: YAML folds it into one row
    "\n  1 -2 0\n  3 4 5   # my answer",
    "1 -2 0;\n  3 4 5",
    "[1 -2 0\n  3 4 5]",
    "[[1, -2, 0],\n  [3, 4, 5]]",
])
def test_a_matrix_typed_over_several_lines_of_a_sheet_reads_its_lines_as_rows(entry):
    sheet = parse_sheet(f"student: a\n1.q: {entry}\n1.r: 5\n")
    assert sheet.answers["1.r"] == "5"
    assert verdict(MATRIX, sheet.answers["1.q"]) == verdict(MATRIX, "1 -2 0\n3 4 5") == "correct"


@pytest.mark.parametrize("entry", [">\n  1 -2 0\n  3 4 5", '"1 -2 0\n  3 4 5"', "[1, -2, 0\n  3, 4, 5]"])
def test_a_matrix_whose_lines_yaml_has_joined_is_refused_with_advice_never_one_long_row(entry):
    sheet = parse_sheet(f"student: a\n1.q: {entry}\n")
    result = grade_part("1.q", Part("q", "q", MATRIX), sheet.answers["1.q"])
    assert result.verdict == "invalid" and "separate the rows with ';'" in result.message


@pytest.mark.parametrize("entry", ["[1, -2, 0,\n  3, 4, 5]", "[1, -2, 0,\n  3, 4, 5]   # my answer",
                                   "|\n  [1, -2, 0,\n  3, 4, 5]", "[1, -2, 0,\n  3, 4, 5,]"])
def test_a_flat_list_typed_over_several_lines_reads_its_lines_as_rows(entry):
    """It was one row of six ('Expected a 2x3 matrix, got 1x6')."""
    sheet = parse_sheet(f"student: a\n1.q: {entry}\n1.v: [1.5,\n  -2]\n")
    assert verdict(MATRIX, sheet.answers["1.q"]) == "correct"
    assert verdict(VECTOR, sheet.answers["1.v"]) == "correct"  # a vector's lines are not rows


@pytest.mark.parametrize("entry,verdict_", [("[1, -2, 0, 3,\n  4, 5]", "invalid"), ("[1, -2, 0, 3, 4, 5]", "wrong"),
                                            ("1 -2 0 3 4 5", "wrong")])
def test_a_matrix_whose_rows_are_not_recovered_says_separate_the_rows(entry, verdict_):
    sheet = parse_sheet(f"student: a\n1.q: {entry}\n")
    result = grade_part("1.q", Part("q", "q", MATRIX), sheet.answers["1.q"])
    assert result.verdict == verdict_ and "separate the rows with ';'" in result.message


def test_other_answers_over_several_lines_read_as_yaml_joins_them():
    sheet = parse_sheet("student: a\n1.x: 7.3 ×\n  10^22\n1.v: 1.5\n  -2\n")
    assert verdict(NUMBER, sheet.answers["1.x"]) == "correct"
    assert verdict(VECTOR, sheet.answers["1.v"]) == "correct"  # one entry per line: a column


@pytest.mark.parametrize("entry", ["\n  - 2 0 1\n  - 0 0 3\n  - 1 2 1", "[2 0 1, 0 0 3, 1 2 1]"])
def test_a_list_of_row_strings_on_a_sheet_is_a_matrix_by_rows(entry):
    """Each string of several numbers is a row (it was one row of nine: 'Expected a 3x3 matrix, got 1x9', while the
    feedback echoed it as '2 0 1; 0 0 3; 1 2 1', the key)."""
    key = Answer("matrix", [[2, 0, 1], [0, 0, 3], [1, 2, 1]])
    sheet = parse_sheet(f"student: a\n1.q: {entry}\n")
    result = grade_part("1.q", Part("q", "q", key), sheet.answers["1.q"])
    assert result.verdict == "correct" and result.answer == "2 0 1; 0 0 3; 1 2 1"


def test_a_flat_list_on_a_sheet_is_echoed_as_the_one_row_it_is_read_as():
    key = Answer("matrix", [[2, 0, 1], [0, 0, 3], [1, 2, 1]])
    sheet = parse_sheet("student: a\n1.q: [2, 0, 1, 0, 0, 3, 1, 2, 1]\n")
    result = grade_part("1.q", Part("q", "q", key), sheet.answers["1.q"])
    assert result.verdict == "wrong" and "got 1x9" in result.message
    assert result.answer == "2, 0, 1, 0, 0, 3, 1, 2, 1"  # it read '2; 0; 1; …', nine rows to the eye


@pytest.mark.parametrize("answer,text,expected", [
    (BITS_COUNT, "24 Bytes", "correct"),         # byte and bit spelled out, in any case (each was refused)
    (BITS_COUNT, "192 Bits", "correct"),
    (BITS_COUNT, "24 bytes", "correct"),
    (BITS_COUNT, "25 bytes", "wrong"),
    (BITS_COUNT, "0.192 k bits", "correct"),
    (BITS_COUNT, "0.000192 mbits", "correct"),   # (a lowercase m before bit or byte is mega, as before b)
    (GB, "51500 mbytes", "correct"),     # the k a factor or a prefix: the same value, so not 'two ways'
    (GB, "51.5 GBytes", "correct"),
    (GB, "51.5 G bytes", "correct"),
    (GB, "47.96 Gi bytes", "correct"),
    (GB, "51.5 ＧＢ", "correct"),                 # full-width letters, as full-width digits
    (SEVENTEEN, "17 Bytes", "invalid"),          # a capitalised unit is never a label
])
def test_units_spelled_out_or_full_width_are_read(answer, text, expected):
    assert verdict(answer, text) == expected


@pytest.mark.parametrize("text", ["memory\u2010bound", "memory\u2011bound", "ｍemory-bound"])
def test_a_choice_with_a_unicode_hyphen_or_full_width_letter_is_read(text):
    assert verdict(Answer("choice", "memory-bound", choices=("memory-bound", "compute-bound")), text) == "correct"


@pytest.mark.parametrize("answer,text,message", [
    (GB, "1e", "an exponent needs its digits"),          # it said ''e' does not measure the same thing'
    (GB, "51.5 gb/kiBx", "unknown unit 'kiBx'"),         # the unit as typed, not as rewritten
    (BANDWIDTH, "3350 gbs", "read 'gbs' as GB/s"),
])
def test_messages_name_what_was_typed(answer, text, message):
    assert message in grade_part("1.x", Part("x", "x", answer), text).message


def test_a_reading_is_noted_once():
    """'gbs' was noted twice: "read 'gb' as GB" and then "read 'gbs' as GB/s"."""
    assert grade_part("1.x", Part("x", "x", BANDWIDTH), "3350 gbs").message.count("Read as") == 1


@pytest.mark.parametrize("text", ["3 gbytes", "3 GBytes", "3 tflops", "3 kwh", "3 Pwh", "3 tons", "3 gtokens", "3 KHz",
                                  "3 E", "3 wh", "3 Bytes"])
def test_a_unit_the_grammar_reads_is_never_a_label_of_a_count(text):
    """Each was read as a label and dropped: '3 tflops' for a count of 3 was correct."""
    assert verdict(GPUS, text) == "invalid"


@pytest.mark.parametrize("text", ["3 KV heads", "3 FMAs", "3 GEMMs", "3 DP replicas", "3 layers", "3 nodes",
                                  "3 attention heads", "3 all-reduces"])
def test_labels_that_are_acronyms_or_words_stay_labels(text):
    assert verdict(GPUS, text) == "correct"


# ---- review 4: correct answers in the questions' own words -----------------------------------------------

MICRO_STEPS = Answer("integer", 9765632)
DAYS = Answer("number", 1.203, unit="day", sig=4)
CO2 = Answer("number", 60.5, unit="t", sig=3)
OPS_PER_BYTE = Answer("number", 200.6, unit="FLOP/byte", sig=4)
PARAMS = Answer("number", 68.3e9, sig=3)
FLOPS_COUNT = Answer("number", 4781000, unit="FLOP", sig=4)


@pytest.mark.parametrize("answer,text,expected", [
    # a micro-step and a micro-batch are what the part counts, never micro × steps
    (MICRO_STEPS, "9765632 microsteps", "correct"), (MICRO_STEPS, "9765632 micro-steps", "correct"),
    (MICRO_STEPS, "9765632 micro steps", "correct"), (MICRO_STEPS, "9765632 micro-batches", "correct"),
    (MICRO_STEPS, "9765632 kilosteps", "invalid"), (MICRO_STEPS, "9766 kilosteps", "invalid"),  # never scaled
    (MICRO_STEPS, "9765632 millisteps", "invalid"), (MICRO_STEPS, "9.765632 megatokens", "invalid"),
    (MICRO_STEPS, "813802 dozen steps", "invalid"), (MICRO_STEPS, "813802 dozen micro-batches", "invalid"),
    (MICRO_STEPS, "9765632 micro", "invalid"),
    # a unit WORD in any case; a symbol keeps its case
    (DAYS, "1.203 Days", "correct"), (Answer("number", 28.87, unit="hour", sig=4), "28.87 Hours", "correct"),
    (Answer("number", 61.4, unit="percent", sig=3), "61.4 Percent", "correct"),
    (GB, "51.5 Gigabytes", "correct"), (GB, "48 Gibibytes", "correct"), (GB, "51.5 GIGABYTES", "correct"),
    (Answer("number", 20, unit="ms", sig=3), "20 Milliseconds", "correct"),
    (GB, "51.5 Gb", "wrong"), (GB, "51.5 Gigabits", "wrong"),
    (GB, "51.5 GBIT", "wrong"), (Answer("number", 20, unit="ms", sig=3), "20 MSEC", "invalid"),  # never milli-
    # the question's tonnes of CO2-equivalent
    (CO2, "60.5 tonnes of CO2-equivalent", "correct"), (CO2, "60.5 t CO2-equivalent", "correct"),
    (CO2, "60.5 t CO₂e", "correct"), (CO2, "60.5 tCO₂", "correct"), (CO2, "60.5 metric tonnes", "correct"),
    (CO2, "60457 kg CO2e", "correct"), (CO2, "0.0605 kt", "correct"),
    (CO2, "60.5 kg CO2e", "wrong"), (CO2, "60.5 kt", "wrong"),
    # operations per byte where the part counts FLOP
    (OPS_PER_BYTE, "200.6 ops/byte", "correct"), (OPS_PER_BYTE, "200.6 FLOP:byte", "correct"),
    (OPS_PER_BYTE, "200.6 ops/bit", "wrong"),
    (FLOPS_COUNT, "4781000 floating-point operations", "correct"),
    (FLOPS_COUNT, "4781 floating-point operations", "wrong"),
    # a count per a count is a plain count
    (Answer("integer", 149536), "149536 steps/epoch", "correct"),
    (Answer("integer", 32768), "32768 tokens/batch", "correct"),
    (Answer("integer", 32768), "32768 tokens/s", "invalid"), (Answer("integer", 32768), "32768 GB/batch", "invalid"),
    # a comma in a whole number only separates thousands (nothing but what it counts after it); a sentence's
    # period and '≈' change nothing
    (Answer("integer", 149536), "149,536 steps", "correct"), (Answer("integer", 149536), "149,536", "correct"),
    (Answer("integer", 149), "149,536", "wrong"), (NUMBER, "7,300", "invalid"),
    (Answer("integer", 1179648, unit="B"), "1,152 KiB", "invalid"),   # 1152 KiB, or 1.152 KiB = 1179.6 B?
    (Answer("integer", 47104, unit="B"), "47,104 kB", "invalid"), (Answer("integer", 4522), "4,522 K", "invalid"),
    (Answer("integer", 1152000, unit="B"), "1,152e3 B", "invalid"),
    (Answer("integer", 1179648, unit="B"), "1,152 kibibytes", "invalid"),
    (Answer("integer", 32768), "32,768 ktokens", "invalid"), (Answer("integer", 32768), "32,768 ktok", "invalid"),
    (Answer("integer", 32768), "32,768 tokens per batch", "correct"),
    (Answer("integer", 32768), "32,768 tokens/batch", "correct"),
    (Answer("integer", 32768), "32,768 (tokens)", "correct"),
    (PARAMS, "68.3 billion parameters.", "correct"), (PARAMS, "≈ 68.3 billion", "correct"),
    (PARAMS, "≈ 68.3e9", "correct"), (PARAMS, "≈ 6.83 billion", "wrong"),
    # a prefix's symbol on what is counted is not a scale: 'µsteps' is micro-steps, 'ntokens' is refused
    (Answer("integer", 101754), "101754 µsteps", "correct"), (Answer("integer", 101754), "101754 usteps", "correct"),
    (PARAMS, "8.06e18 params/ntoken", "invalid"), (PARAMS, "68.3e9 nparams", "invalid"),
    # 'X =' is not skipped: X may be a unit ('s = 20' for 20 ms, 'GB = 92.2' for a GiB part)
    (PARAMS, "N = 68.3 billion", "invalid"), (Answer("number", 20, unit="ms", sig=2), "s = 20", "invalid"),
    (PARAMS, "N_opt = 68.3 billion", "invalid"),
    (Answer("number", 2.8, unit="GB", sig=3), "weights_GiB = 2.61", "invalid"),
    (Answer("integer", 1662), "1,662 thousand", "invalid"),
    (Answer("integer", 32768), "32,768 thousand tokens", "invalid"),
    (Answer("integer", 13200, unit="FLOP"), "13,200 kflop", "invalid"),
    (Answer("integer", 368640, unit="B"), "368,640 kbytes", "invalid"),
    (Answer("integer", 368640, unit="B"), "368,640 bytes", "correct"),
    (Answer("integer", 216), "216 Gbatches", "wrong"), (Answer("integer", 216), "0.216 kbatches", "correct"),
    (Answer("integer", 16), "16 Gsamples", "invalid"), (Answer("integer", 16), "16 Gmicro-batches", "invalid"),
    (Answer("integer", 149536), "149536 Gupdates", "invalid"), (Answer("integer", 16), "16 Kmicro-batches", "invalid"),
    (Answer("integer", 32768), "32768 tokens/Gbatch", "invalid"),
    (Answer("integer", 16), "16 Batches", "correct"), (Answer("integer", 16), "16 Tokens", "correct"),
    (PARAMS, "68.3..", "invalid"), (PARAMS, "68.3e9.", "correct"),
    (RATIO, "0.42.", "correct"), (RATIO, "0.4.2.", "invalid"), (Answer("integer", 12), "12.", "correct"),
])
def test_review4_spellings_of_correct_answers(answer, text, expected):
    assert verdict(answer, text) == expected


def test_a_second_number_word_is_refused_in_words_that_agree():
    message = grade_part("1.x", Part("x", "x", PARAMS), "68.3 thousand million").message
    assert "second number word" in message and "or with thousand" not in message
