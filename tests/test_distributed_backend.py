"""Which transport the parallelism verifier's process group uses (issue 18): NCCL with one GPU per rank,
otherwise gloo on CPU, stated — byte counts do not depend on the transport."""

from __future__ import annotations

import pytest

from conftest import needs


@needs("torch")
def test_cpu_runs_on_gloo():
    from exgen.verify.distributed import backend_for

    assert backend_for("cpu", 4) == ("gloo", "gloo on CPU")


@needs("torch")
def test_cuda_with_fewer_gpus_than_ranks_falls_back_to_gloo_and_says_why():
    import torch

    from exgen.verify.distributed import backend_for

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus >= 4:
        pytest.skip("this machine has a GPU per rank")
    backend, why = backend_for("cuda", 4)
    assert backend == "gloo" and why.startswith("gloo on CPU (")


@needs("torch")
def test_enough_gpus_use_nccl():
    import torch

    from exgen.verify.distributed import backend_for

    if not (torch.cuda.is_available() and torch.distributed.is_nccl_available() and torch.cuda.device_count() >= 2):
        pytest.skip("needs two CUDA GPUs and NCCL")
    assert backend_for("cuda", 2) == ("nccl", "NCCL on 2 GPUs")
