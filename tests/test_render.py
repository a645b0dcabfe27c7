"""Rendering helpers shared by every topic."""

from fractions import Fraction

import pytest

from exgen import numfmt as nf


@pytest.mark.parametrize("key,latex", [
    ("24*N_layer*D^2", r"24\,N_{\text{layer}}\,D^{2}"),
    ("8*N_layer*B*L*D", r"8\,N_{\text{layer}}\,B\,L\,D"),
    ("2^(k-1)*N", r"2^{(k-1)}\,N"),
    ("x_i**2/(a+b)", r"x_{i}^{2}/(a+b)"),
])
def test_expression_keys_render_as_latex(key, latex):
    assert nf.expression(key) == latex


@pytest.mark.parametrize("value,figures,text", [(1.7, 3, "1.70"), (3, 4, "3.000"), (7.3e22, 2, r"7.3 \times 10^{22}"),
                                                (-0.0001234, 2, "-0.00012")])
def test_significant_figures_keep_the_stated_precision(value, figures, text):
    assert nf.sig(value, figures, trim=False) == text


def test_negative_zero_is_written_zero():
    assert nf.fixed(-0.001, 2) == "0.00"


@pytest.mark.parametrize("value,figures,text", [
    (41.15, 3, "41.2"),                 # the float 41.15 is 41.1499…: the decimal the solver meant is a tie
    (-41.15, 3, "-41.2"),               # away from zero, as the quantization questions state
    (0.125, 2, "0.13"),                 # an exact binary tie no longer goes to even
    (Fraction(823, 20), 3, "41.2"),     # an exact key is rounded exactly
    (Fraction(8229999, 200000), 3, "41.1"),  # just below the half stays below
    (9.995, 3, "10.0"),                 # a tie that carries into a new leading digit
    (2.5e22, 1, r"3 \times 10^{22}"),
    (41.149999, 3, "41.1"),
    (12345, 4, r"1.235 \times 10^{4}"),        # an int at a tie, also rounded exactly
    (Fraction(4115, 100) + Fraction(1, 10**17), 3, "41.2"),  # a hair above a tie, under a float's resolution
    (Fraction(4115, 100) - Fraction(1, 10**17), 3, "41.1"),  # a hair below: exact, not the float's tie
])
def test_a_key_at_an_exact_half_prints_rounded_half_away_from_zero(value, figures, text):
    assert nf.sig(value, figures, trim=False) == text


@pytest.mark.parametrize("value,decimals,text", [(2.675, 2, "2.68"), (-2.5, 0, "-3"), (0.0625, 3, "0.063"),
                                                 (Fraction(-1, 8), 2, "-0.13"), (1e30, 2, "1" + "0" * 30 + ".00"),
                                                 (-0.004, 2, "0.00"), (float("inf"), 2, "inf")])
def test_decimals_round_half_away_from_zero(value, decimals, text):
    assert nf.fixed(value, decimals) == text


def test_rounding_to_figures_for_a_student_path_is_unchanged():
    """`round_sig` feeds student paths and samplers: a tie there is the float's, so sampled instances stay."""
    assert nf.round_sig(8.125, 3) == 8.12 and nf.round_sig(41.15, 3) == 41.1


@pytest.mark.parametrize("key,figures,neighbours", [(41.15, 3, ("41.1", "41.2")), (0.125, 2, ("0.12", "0.13")),
                                                     (-2.5, None, ("-2", "-3"))])
def test_the_grader_accepts_both_neighbours_of_a_tie(key, figures, neighbours):
    """The key prints one neighbour of a tie; a student who rounds it the other way is right too."""
    from exgen.grading.compare import matches
    from exgen.problem import Answer

    answer = Answer("number", key, sig=figures) if figures else Answer("number", key, decimals=0)
    assert all(matches(answer, float(text)) for text in neighbours)


def test_feedback_prints_a_key_at_a_tie_as_the_sheet_does():
    """`exgen grade` and `exgen check --reveal` write the key in plain text by the same rule as the sheet."""
    from exgen.grading.grade import expected_text
    from exgen.problem import Answer

    assert expected_text(Answer("number", 41.15, unit="GB", sig=3)) == "41.2 GB"
    assert expected_text(Answer("matrix", [[-0.4875, 0.8125]], decimals=3)) == "-0.488 0.813"
