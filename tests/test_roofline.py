"""`exgen roofline`: a measured roofline, honestly labelled, with ops placed on it (issue 18)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import needs
from exgen import gpus
from exgen.cli import cli


@pytest.mark.parametrize("reported,entry", [
    ("NVIDIA H100 80GB HBM3", "H100"), ("NVIDIA H200", "H200"), ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
    ("NVIDIA A100-SXM4-40GB", "A100-40GB"), ("Tesla V100-SXM2-32GB", "V100"),
])
def test_a_gpu_is_identified_by_the_name_torch_reports(reported, entry):
    assert gpus.by_device_name(reported) is gpus.GPUS[entry]


@pytest.mark.parametrize("reported", ["NVIDIA A100-PCIE-40GB", "NVIDIA GeForce RTX 4090", ""])
def test_a_board_without_datasheet_figures_here_is_not_matched(reported):
    assert gpus.by_device_name(reported) is None


@needs("torch")
def test_the_cpu_roofline_is_measured_and_labelled_as_a_cpu_measurement(tmp_path):
    from exgen import roofline

    r = roofline.measure("cpu", quick=True)
    assert not r.is_gpu and r.spec is None and "CPU measurement" in r.device
    assert r.bandwidth > 1e8 and r.peak > 1e8  # any machine copies 100 MB/s and multiplies 0.1 GFLOP/s
    assert r.ridge == pytest.approx(r.peak / r.bandwidth)
    intensities = [op.intensity for op in r.ops]
    assert intensities == sorted(intensities) and intensities[0] < r.ridge < intensities[-1]
    for op in r.ops:
        assert op.attainable == pytest.approx(min(r.peak, op.intensity * r.bandwidth))
        assert op.achieved > 0
    text = roofline.report(r)
    assert "CPU measurement" in text and "memory bandwidth" in text and "vector add" in text
    png = tmp_path / "roofline.png"
    roofline.plot(r, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs("torch")
def test_the_vector_add_is_counted_as_one_flop_per_three_elements_moved():
    from exgen import roofline

    r = roofline.measure("cpu", quick=True)
    add = next(op for op in r.ops if op.name == "vector add")
    assert add.intensity == pytest.approx(1 / 12)  # fp32: 1 FLOP over 3 × 4 bytes


@needs("torch")
def test_asking_for_cuda_without_a_gpu_is_one_clear_line():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = CliRunner().invoke(cli, ["roofline", "--device", "cuda", "--quick"])
    assert result.exit_code == 2 and "no CUDA device" in result.output and "Traceback" not in result.output


@needs("torch")
def test_on_a_gpu_the_measurement_is_compared_with_its_datasheet():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU (benchmarks/gpu_check.sh runs this where one is lent)")
    from exgen import roofline

    r = roofline.measure("cuda", quick=True)
    assert r.is_gpu
    if r.spec is not None:  # a datasheet is a ceiling: a measurement above it means we counted wrong
        assert r.bandwidth < 1.1 * r.spec.bandwidth and r.peak < 1.1 * r.spec.peak[r.dtype]
