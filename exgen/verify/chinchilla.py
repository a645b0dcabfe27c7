"""Chinchilla reproduced with torch (float64), independently of the solver.

The fit's optimum is not taken from the closed form: it is found by Newton's method on x = log N,
minimising f(x) = L(e^x, C / (6 e^x)) with first and second derivatives from torch.autograd (the closed
form is what the solver uses; two routes to one number).  f is a sum of two exponentials in x, strictly
convex, so Newton from N = D = sqrt(C/6) converges in a handful of steps.  The rule and the 20-tokens
heuristic, the losses, and GPU budgets are plain torch arithmetic from their definitions; a day's seconds
come from datetime.  Nothing here imports exgen.topics.
"""

from __future__ import annotations

import datetime
from typing import Any

import torch

PUBLISHED_FIT = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. 2022
FLOPS_PER_PARAM_TOKEN = 6  # C = 6ND
NEWTON_TOL = 1e-14  # |Δ log N|
NEWTON_MAX_STEPS = 100


class _Ctx:
    def __init__(self, g: dict[str, Any], device: torch.device) -> None:
        self.device = device
        self.fit = {k: self.t(g.get(k, v)) for k, v in PUBLISHED_FIT.items()}

    def t(self, x: Any) -> torch.Tensor:
        return torch.tensor(float(x), dtype=torch.float64, device=self.device)

    def loss(self, n: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = self.fit
        model, data = f["A"] / n ** f["alpha"], f["B"] / d ** f["beta"]
        return model, data, f["E"] + model + data


def newton_optimum(c: torch.Tensor, ctx: _Ctx, k: float = FLOPS_PER_PARAM_TOKEN) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(N_opt, D_opt, steps): argmin over N of L(N, C/(kN)), by Newton's method on log N with autograd."""
    x = torch.log(torch.sqrt(c / k)).detach().requires_grad_(True)
    for step in range(1, NEWTON_MAX_STEPS + 1):
        n = torch.exp(x)
        total = ctx.loss(n, c / (k * n))[2]
        (grad,) = torch.autograd.grad(total, x, create_graph=True)
        (hess,) = torch.autograd.grad(grad, x)
        delta = (grad / hess).detach()
        x = (x.detach() - delta).requires_grad_(True)
        if delta.abs().item() < NEWTON_TOL:
            n = torch.exp(x.detach())
            return n, c / (k * n), step
    raise RuntimeError(f"Newton's method did not converge in {NEWTON_MAX_STEPS} steps")


def optimum(c: torch.Tensor, method: str, ctx: _Ctx) -> tuple[torch.Tensor, torch.Tensor]:
    if method == "fit":
        n, d, _ = newton_optimum(c, ctx)
        return n, d
    if method == "rule":  # seed 001: N = 0.1 C^0.5, D = 1.7 C^0.5
        return 0.1 * torch.sqrt(c), 1.7 * torch.sqrt(c)
    if method == "tokens20":  # D = 20 N and C = 6 N D
        n = torch.sqrt(c / (FLOPS_PER_PARAM_TOKEN * 20))
        return n, 20 * n
    raise ValueError(f"unknown method {method!r}")


def _gpu_compute(g: dict[str, Any], ctx: _Ctx) -> torch.Tensor:
    seconds = ctx.t(g["days"]) * datetime.timedelta(days=1).total_seconds()
    return ctx.t(g["gpus"]) * ctx.t(g["peak"]) * 1e12 * seconds * ctx.t(g["mfu"])


def _optimum(g, ctx):
    c = ctx.t(g["C"])
    n, d = optimum(c, g["method"], ctx)
    return {"N_opt": n, "D_opt": d, "loss": ctx.loss(n, d)[2]}


def _gpu_budget(g, ctx):
    c = _gpu_compute(g, ctx)
    n, d = optimum(c, g["method"], ctx)
    return {"compute": c, "N_opt": n, "D_opt": d}


def _loss(g, ctx):
    model, data, total = ctx.loss(ctx.t(g["N"]), ctx.t(g["D"]))
    return {"model_term": model, "data_term": data, "loss": total}


def _compare(g, ctx):
    c, n_a, n_b = ctx.t(g["C"]), ctx.t(g["N_A"]), ctx.t(g["N_B"])
    d_a, d_b = c / (FLOPS_PER_PARAM_TOKEN * n_a), c / (FLOPS_PER_PARAM_TOKEN * n_b)
    l_a, l_b = ctx.loss(n_a, d_a)[2], ctx.loss(n_b, d_b)[2]
    return {"D_A": d_a, "D_B": d_b, "loss_A": l_a, "loss_B": l_b, "better": "A" if l_a < l_b else "B"}


def _overtrained(g, ctx):
    n, d = ctx.t(g["N"]), ctx.t(g["D"])
    c = FLOPS_PER_PARAM_TOKEN * n * d
    n_opt, d_opt = optimum(c, g["method"], ctx)
    return {"compute": c, "tokens_per_param": d / n, "N_opt": n_opt, "opt_tokens_per_param": d_opt / n_opt,
            "factor": (d / n) / (d_opt / n_opt)}


def _closed_form(g, ctx):
    """a, b and G measured from the optimum itself: Newton's N_opt at C and at 1000 C gives the exponent of the
    power law N_opt ∝ (C/k)^a as a ratio of logarithms, G as N_opt / (C/k)^a; D/N from Newton's D and N."""
    k = float(g.get("flops_per_token", FLOPS_PER_PARAM_TOKEN))
    c = ctx.t(g["C"])
    n, d, _ = newton_optimum(c, ctx, k)
    n2, d2, _ = newton_optimum(c * 1000, ctx, k)
    a = torch.log(n2 / n) / torch.log(ctx.t(1000))
    b = torch.log(d2 / d) / torch.log(ctx.t(1000))
    n_rule, d_rule = 0.1 * torch.sqrt(c), 1.7 * torch.sqrt(c)
    return {"a": a, "b": b, "G": n / (c / k) ** a, "N_opt": n, "D_opt": d, "tokens_per_param": d / n,
            "rule_compute": k * n_rule * d_rule, "rule_ratio": k * n_rule * d_rule / c}


_REPRODUCERS = {"optimum": _optimum, "gpu_budget": _gpu_budget, "loss": _loss, "compare": _compare,
                "overtrained": _overtrained, "closed_form": _closed_form}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    values = _REPRODUCERS[variant](givens, _Ctx(givens, device))
    return {k: v.item() if isinstance(v, torch.Tensor) else v for k, v in values.items()}
