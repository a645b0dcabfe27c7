"""K-means quantization (quantization/kmeans): the seed decks' slide example, ties, the Lloyd step, storage,
and the torch verifier."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import needs
from exgen.generate import generate, solve_givens
from exgen.topics.base import DIFFICULTIES, InvalidGivens
from exgen.topics.quantization.kmeans import nearest

# Seeds 000 and 003, "K-Means" slide (after Han et al. 2016, Deep Compression, Fig. 3): a 4x4 weight matrix,
# its 2-bit cluster indices and the 4-entry codebook 3: 2.00, 2: 1.50, 1: 0.00, 0: -1.00.
SLIDE_W = [[2.09, -0.98, 1.48, 0.09], [0.05, -0.14, -1.08, 2.12], [-0.91, 1.92, 0, -1.03], [1.87, 0, 1.53, 1.49]]
SLIDE_INDICES = [[3, 0, 2, 1], [1, 1, 0, 3], [0, 3, 1, 0], [3, 1, 2, 2]]
SLIDE_CODEBOOK = [-1.0, 0.0, 1.5, 2.0]


def answers(givens):
    return {p.id: p.answer.value for p in solve_givens("quantization", "kmeans", givens).solution.parts}


def test_the_seed_slide_indices_and_storage():
    """The slide's index matrix; with 32-bit floats, 16 x 32 = 512 bits before and 16 x 2 + 4 x 32 = 160 bits
    after (Han et al.'s lecture figure: 64 B against 20 B, 3.2x)."""
    a = answers({"W": SLIDE_W, "centroids": SLIDE_CODEBOOK, "float_bits": 32, "metric": "max_abs"})
    assert a["indices"] == SLIDE_INDICES
    assert a["before"] == 512 and a["after"] == 160 and a["ratio"] == pytest.approx(3.2)
    assert a["error"] == pytest.approx(0.14)  # -0.14 -> 0.00


def test_the_slide_codebook_is_a_fixed_point_of_lloyd():
    """Each slide centroid is the mean of its cluster (8.00/4, 4.50/3, 0.00/5, -4.00/4): one Lloyd step keeps it."""
    a = answers({"W": SLIDE_W, "centroids": SLIDE_CODEBOOK, "float_bits": 32, "metric": "mse", "lloyd": "one step"})
    assert a["centroids"] == pytest.approx(SLIDE_CODEBOOK)


def test_a_tie_goes_to_the_lower_index_and_the_question_says_so():
    problem = solve_givens("quantization", "kmeans", {"W": [[0.5, 2]], "centroids": [0, 1], "float_bits": 16,
                                                      "metric": "mse"})
    assert problem.solution.part("indices").answer.value == [[0, 1]]
    assert "lower index" in problem.solution.shown[0].text


def test_one_lloyd_step_moves_each_centroid_to_its_mean_and_keeps_an_empty_one():
    a = answers({"W": [[0.1, 0.3, 2.0, 2.4]], "centroids": [0, 2, 5, 9], "float_bits": 16, "metric": "max_abs",
                 "lloyd": "one step"})
    assert a["centroids"] == pytest.approx([0.2, 2.2, 5, 9])
    assert a["after"] == 4 * 2 + 4 * 16


@pytest.mark.parametrize("givens", [{"centroids": [0, 1, 2]}, {"centroids": [1, 1]}, {"W": [[1, 2], [3]]}])
def test_bad_givens_are_refused(givens):
    with pytest.raises(InvalidGivens):
        solve_givens("quantization", "kmeans", {"W": [[1, 2]], "centroids": [0, 1], "float_bits": 16,
                                                "metric": "mse", **givens})


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_sampled_instances_have_no_tie_and_use_every_centroid(difficulty):
    for seed in range(30):
        problem = generate("quantization", "kmeans", difficulty, seed)
        g = problem.givens
        centroids = [Fraction(str(c)) for c in g["centroids"]]
        assert not any(nearest(Fraction(str(v)), centroids)[1] for row in g["W"] for v in row)
        used = {i for row in problem.solution.part("indices").answer.value for i in row}
        assert used == set(range(len(g["centroids"])))


@needs("torch")
def test_the_verifier_reproduces_the_slide():
    import torch

    from exgen.verify.quantization import reproduce
    got = reproduce("kmeans", {"W": SLIDE_W, "centroids": SLIDE_CODEBOOK, "float_bits": 32, "metric": "max_abs",
                               "lloyd": "one step"}, torch.device("cpu"))
    assert got["indices"] == SLIDE_INDICES and got["before"] == 512 and got["after"] == 160
    assert got["centroids"] == pytest.approx(SLIDE_CODEBOOK)
