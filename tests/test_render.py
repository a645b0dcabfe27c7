"""Rendering helpers shared by every topic."""

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
