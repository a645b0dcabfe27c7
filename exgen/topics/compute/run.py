"""Training runs as papers report them (issue 17): compute in PF-days, activation recomputation and the training
time from an achieved per-GPU rate, energy and carbon.

    PF-day                    10^15 FLOP/s × 86400 s = 8.64 × 10^19 FLOP (Brown et al. 2020, Appendix D)
    forward : backward        2N : 4N FLOPs per token, a ratio of 2 (seed 000)
    with full recomputation   one more forward in the backward pass: 8ND, backward (incl. recompute) 3 × forward
    training time             t = 8TP / (nX) with recomputation (Narayanan et al. 2021, Section 5.1), 6TP/(nX)
                              without, X the FLOP/s each of the n GPUs achieves
    HFU against MFU           MFU counts the model's FLOPs, 6N + 12LHQT per token; HFU counts what the hardware
                              runs, the recomputed forward too: 8N + 16LHQT with full recomputation, so HFU/MFU =
                              4/3, and HFU = MFU without (Chowdhery et al. 2022, "PaLM", Section 4 and Appendix B)
    energy                    GPU-hours × power per GPU × PUE (Touvron et al. 2023, "LLaMA", Section 6.1)
    carbon                    energy × the grid's carbon intensity (LLaMA: 0.385 kg CO2eq per kWh)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Variant
from exgen.topics.compute.common import (
    FLOP_SIG, SECONDS_PER_DAY, SIG, _GPUS, _PARAMS, _TOKENS, _flop, _from_shown, _other_value, _scaled)

PF_DAY = 10**15 * SECONDS_PER_DAY  # FLOP
RECOMPUTE = ("none", "full")


def run_flops(params: Any, tokens: Any, recompute: str) -> Fraction:
    return (8 if recompute == "full" else 6) * _f(params) * _f(tokens)


def energy(gpus: int, days: Any, power_w: Any, pue: Any, intensity: Any) -> dict[str, Fraction]:
    gpu_hours = gpus * _f(days) * 24
    mwh = gpu_hours * _f(power_w) * _f(pue) / 10**6
    return {"gpu_hours": gpu_hours, "mwh": mwh, "tco2": mwh * _f(intensity)}


_LAYERS = Given("layers", "layers L", "integer", low=1, high=1000)
_HEADS = Given("heads", "attention heads H", "integer", low=1, high=10**4)
_HEAD_DIM = Given("head_dim", "head dimension Q", "integer", low=1, high=10**4)
_SEQ_LEN = Given("seq_len", "sequence length T", "integer", low=1, high=10**7)
_TOKENS_PER_S = Given("tokens_per_s", "measured training throughput of one GPU", "number", unit="token/s",
                      low=1e-6, high=1e9)
_PEAK = Given("peak_tflops", "peak throughput of one GPU", "number", unit="TFLOP/s", low=1e-3, high=1e6)

VARIANTS = (
    Variant("recompute", "training compute with or without full activation recomputation (8ND), in FLOP and "
            "PF-days, the backward:forward ratio, and the time t = 8ND/(nX) from an achieved per-GPU rate", (
                _PARAMS, _TOKENS, _GPUS,
                Given("achieved_tflops", "FLOP rate each GPU achieves, X", "number", unit="TFLOP/s", low=1e-3,
                      high=1e6),
                Given("recompute", "none, or full (every layer's forward runs again in the backward pass)",
                      "choice", choices=RECOMPUTE))),
    Variant("mfu_tokens", "model FLOPs per token with the attention term (6N + 12LHQT, Chowdhery et al. 2022), "
            "the achieved TFLOP/s and MFU from a measured tokens/s per GPU, and the training time", (
                _PARAMS, _LAYERS, _HEADS, _HEAD_DIM, _SEQ_LEN, _TOKENS_PER_S, _GPUS, _PEAK, _TOKENS)),
    Variant("hfu", "hardware FLOPs utilisation against MFU from a measured tokens/s per GPU: HFU counts the "
            "recomputed forward too (8N + 16LHQT per token with full recomputation against MFU's 6N + 12LHQT), "
            "and the ratio HFU/MFU", (
                _PARAMS, _LAYERS, _HEADS, _HEAD_DIM, _SEQ_LEN, _TOKENS_PER_S, _PEAK,
                Given("recompute", "none, or full (every layer's forward, attention included, runs again in the "
                      "backward pass)", "choice", choices=RECOMPUTE))),
    Variant("scaling", "scaling efficiency: the achieved rate per GPU at scale against a baseline run on fewer "
            "GPUs, the speedup, and the efficiency", (
                Given("base_gpus", "GPUs of the baseline run", "integer", low=1, high=10**7),
                Given("base_tflops", "FLOP rate the baseline run achieves (all its GPUs together)", "number",
                      unit="TFLOP/s", low=1e-3, high=1e9),
                _GPUS, Given("pflops", "FLOP rate the scaled run achieves (all its GPUs together)", "number",
                             unit="PFLOP/s", low=1e-6, high=1e6))),
    Variant("energy", "GPU-hours, energy with the data centre's PUE, and carbon emitted (LLaMA's accounting)", (
        _GPUS, Given("days", "training time", "number", unit="day", low=1e-3, high=1e5),
        Given("power_w", "power drawn by one GPU", "number", unit="W", low=1, high=1e5),
        Given("pue", "power usage effectiveness of the data centre (1 or more)", "number", low=1, high=10),
        Given("intensity", "carbon intensity of the grid", "number", unit="kg CO2eq/kWh", low=1e-3, high=10))),
)


def _solve_recompute(g: dict[str, Any]) -> Solution:
    full = g["recompute"] == "full"
    flops = run_flops(g["params"], g["tokens"], g["recompute"])
    rate = int(g["gpus"]) * _f(g["achieved_tflops"]) * 10**12
    seconds = flops / rate
    k = 8 if full else 6

    def steps() -> tuple[Step, ...]:
        return (
            Step("Per token and parameter the forward pass takes 2 FLOPs and the backward pass 4" +
                 (", and full recomputation runs the forward once more during the backward pass (2 more)." if full
                  else "."),
                 rf"\frac{{\text{{backward}}}}{{\text{{forward}}}} = \frac{{{4 + 2 * full}}}{{2}} = {2 + full}"),
            Step("Training compute:", rf"C = {k}ND = {k} \times {nf.sig(g['params'], 6)} \times "
                                      rf"{nf.sig(g['tokens'], 6)} = {nf.sig(flops, 6)}\ \text{{FLOP}}"),
            Step(r"One PF-day is $10^{15}$ FLOP/s for a day: $10^{15} \times 86400 = 8.64 \times 10^{19}$ FLOP.",
                 rf"\frac{{{nf.sig(flops, 6)}}}{{8.64 \times 10^{{19}}}} = "
                 rf"{nf.sig(flops / PF_DAY, 6)}\ \text{{PF-days}}"),
            Step(f"Time on the $n$ GPUs at the achieved rate $X$ each"
                 f"{' (which counts the recomputed forward too)' if full else ''}, $t = C/(nX) = {k}ND/(nX)$ (Narayanan et "
                 "al. 2021), 1 day = 86400 s:",
                 rf"\frac{{{nf.sig(flops, 6)}}}{{{g['gpus']} \times {nf.num(g['achieved_tflops'])} \times 10^{{12}}}}"
                 rf" = {nf.sig(seconds, 6)}\ \text{{s}} = {nf.sig(seconds / SECONDS_PER_DAY, 6)}\ \text{{days}}"),
        )

    return Solution((
        Part("ratio", "backward FLOPs over forward FLOPs", Answer("integer", 2 + int(full))),
        Part("flops", "training compute", _flop(flops)),
        Part("pf_days", "training compute in PF-days", Answer("number", float(flops / PF_DAY), unit="PFLOP/s*day",
                                                              sig=SIG)),
        Part("days", "training time", Answer("number", float(seconds / SECONDS_PER_DAY), unit="day", sig=SIG))),
        steps)


def palm_flops_per_token(g: dict[str, Any]) -> Fraction:
    return 6 * _f(g["params"]) + 12 * int(g["layers"]) * int(g["heads"]) * int(g["head_dim"]) * int(g["seq_len"])


def _solve_mfu_tokens(g: dict[str, Any]) -> Solution:
    per_token = palm_flops_per_token(g)
    attention = per_token - 6 * _f(g["params"])
    rate = _f(g["tokens_per_s"])
    achieved = per_token * rate / 10**12
    mfu = 100 * achieved / _f(g["peak_tflops"])
    if mfu > 100:
        raise InvalidGivens(f"the throughput implies {float(mfu):.3g} % of peak: no run sustains more than 100 %")
    seconds = _f(g["tokens"]) / (rate * int(g["gpus"]))

    def steps() -> tuple[Step, ...]:
        return (
            Step("Model FLOPs per token: $6N$ for the weights (forward 2N, backward 4N) and $12LHQT$ for the "
                 "attention scores and weighted sums (forward and backward) of every layer:",
                 rf"6 \times {nf.sig(g['params'], 6)} + 12 \times {g['layers']} \times {g['heads']} \times "
                 rf"{g['head_dim']} \times {g['seq_len']} = {nf.sig(6 * _f(g['params']), 7)} + {nf.sig(attention, 7)}"
                 rf" = {nf.sig(per_token, 7)}\ \text{{FLOP}}"),
            Step("Achieved model FLOP rate of one GPU:",
                 rf"{nf.sig(per_token, 7)} \times {nf.num(g['tokens_per_s'])} = "
                 rf"{nf.sig(achieved, 7)}\ \text{{TFLOP/s}}"),
            Step("MFU is the achieved model FLOP rate over the peak:",
                 rf"100 \times \frac{{{nf.sig(achieved, 7)}}}{{{nf.num(g['peak_tflops'])}}} = {nf.sig(mfu, 6)}\,\%"),
            Step("Training time: the tokens over the cluster's throughput (1 day = 86400 s):",
                 rf"\frac{{{nf.sig(g['tokens'], 6)}}}{{{nf.num(g['tokens_per_s'])} \times {g['gpus']}}} = "
                 rf"{nf.sig(seconds, 6)}\ \text{{s}} = {nf.sig(seconds / SECONDS_PER_DAY, 6)}\ \text{{days}}"),
        )

    return Solution((
        Part("flops_per_token", "model FLOPs per token", _flop(per_token)),
        Part("achieved", "achieved TFLOP/s per GPU", Answer("number", float(achieved), unit="TFLOP/s",
                                                             sig=FLOP_SIG)),
        Part("mfu", "MFU", Answer("number", float(mfu), unit="percent", sig=SIG)),
        Part("days", "training time", Answer("number", float(seconds / SECONDS_PER_DAY), unit="day", sig=SIG))),
        steps)


def hardware_flops_per_token(g: dict[str, Any]) -> Fraction:
    """What the hardware runs per token: the model FLOPs, plus one more forward (2N + 4LHQT) with full
    recomputation."""
    model = palm_flops_per_token(g)
    return model * Fraction(4, 3) if g["recompute"] == "full" else model


def _solve_hfu(g: dict[str, Any]) -> Solution:
    full = g["recompute"] == "full"
    model, hardware = palm_flops_per_token(g), hardware_flops_per_token(g)
    rate, peak = _f(g["tokens_per_s"]), _f(g["peak_tflops"])
    mfu = 100 * model * rate / 10**12 / peak
    hfu = 100 * hardware * rate / 10**12 / peak
    if hfu > 100:
        raise InvalidGivens(f"the throughput implies {float(hfu):.3g} % HFU: no run sustains more than 100 %")
    n = nf.sig(g["params"], 6)

    def steps() -> tuple[Step, ...]:
        return (
            Step("Model FLOPs per token (Chowdhery et al. 2022): $6N$ for the weights and $12LHQT$ for the attention "
                 "scores and weighted sums, forward and backward:",
                 rf"6 \times {n} + 12 \times {g['layers']} \times {g['heads']} \times {g['head_dim']} \times "
                 rf"{g['seq_len']} = {nf.sig(model, 7)}\ \text{{FLOP}}"),
            Step(r"MFU: the model FLOP rate of one GPU over its peak ($1\ \text{TFLOP/s} = 10^{12}$ FLOP/s):",
                 rf"100 \times \frac{{{nf.sig(model, 7)} \times {nf.num(g['tokens_per_s'])}}}"
                 rf"{{{nf.num(g['peak_tflops'])} \times 10^{{12}}}} = {nf.sig(mfu, 6)}\,\%"),
            Step(("Full recomputation runs every layer's forward once more in the backward pass: $2N + 4LHQT$ more "
                  "hardware FLOPs per token." if full else
                  "Without recomputation the hardware runs exactly the model's FLOPs."),
                 (rf"8 \times {n} + 16 \times {g['layers']} \times {g['heads']} \times {g['head_dim']} \times "
                  rf"{g['seq_len']} = {nf.sig(hardware, 7)}\ \text{{FLOP}}" if full else
                  rf"{nf.sig(hardware, 7)}\ \text{{FLOP}}")),
            Step("HFU: the hardware FLOP rate over the peak:",
                 rf"100 \times \frac{{{nf.sig(hardware, 7)} \times {nf.num(g['tokens_per_s'])}}}"
                 rf"{{{nf.num(g['peak_tflops'])} \times 10^{{12}}}} = {nf.sig(hfu, 6)}\,\%"),
            Step("The ratio is the hardware FLOPs over the model FLOPs per token:",
                 rf"\frac{{\text{{HFU}}}}{{\text{{MFU}}}} = \frac{{{nf.sig(hardware, 7)}}}{{{nf.sig(model, 7)}}}"
                 rf" = {nf.sig(hfu / mfu, 6)}"),
        )

    return Solution((
        Part("mfu", "MFU", Answer("number", float(mfu), unit="percent", sig=SIG)),
        Part("hardware", "hardware FLOPs per token", _flop(hardware)),
        Part("hfu", "HFU", Answer("number", float(hfu), unit="percent", sig=SIG)),
        Part("ratio", "HFU / MFU", Answer("number", float(hfu / mfu), sig=SIG))), steps)


def _solve_scaling(g: dict[str, Any]) -> Solution:
    n1, n2 = int(g["base_gpus"]), int(g["gpus"])
    if n2 <= n1:
        raise InvalidGivens("the scaled run uses more GPUs than the baseline")
    base, scaled = _f(g["base_tflops"]), _f(g["pflops"]) * 1000
    per_gpu, speedup = scaled / n2, scaled / base
    efficiency = 100 * per_gpu / (base / n1)

    def steps() -> tuple[Step, ...]:
        return (
            Step("The scaled run in TFLOP/s (1 PFLOP/s = 1000 TFLOP/s), per GPU:",
                 rf"\frac{{{nf.num(g['pflops'])} \times 1000}}{{{n2}}} = {nf.sig(per_gpu, 7)}\ \text{{TFLOP/s}}"),
            Step("Speedup over the baseline:",
                 rf"\frac{{{nf.sig(scaled, 7)}}}{{{nf.num(g['base_tflops'])}}} = {nf.sig(speedup, 6)}"),
            Step("Scaling efficiency: the rate per GPU at scale over the baseline's rate per GPU (equivalently the "
                 "speedup over the increase in GPUs):",
                 rf"100 \times \frac{{{nf.sig(per_gpu, 7)}}}{{{nf.num(g['base_tflops'])} / {n1}}} = "
                 rf"100 \times \frac{{{nf.sig(speedup, 6)}}}{{{n2} / {n1}}} = {nf.sig(efficiency, 6)}\,\%"),
        )

    return Solution((
        Part("per_gpu", "achieved TFLOP/s per GPU at scale", Answer("number", float(per_gpu), unit="TFLOP/s",
                                                                     sig=FLOP_SIG)),
        Part("speedup", "speedup", Answer("number", float(speedup), sig=SIG)),
        Part("efficiency", "scaling efficiency", Answer("number", float(efficiency), unit="percent", sig=SIG))),
        steps)


def _solve_energy(g: dict[str, Any]) -> Solution:
    e = energy(int(g["gpus"]), g["days"], g["power_w"], g["pue"], g["intensity"])

    def steps() -> tuple[Step, ...]:
        return (
            Step("GPU-hours: every GPU runs for the whole training time, 24 hours a day:",
                 rf"{g['gpus']} \times {nf.num(g['days'])} \times 24 = {nf.sig(e['gpu_hours'], 7)}\ \text{{GPU-h}}"),
            Step(r"Energy: GPU-hours times the power of one GPU times the PUE (the data centre's overhead); "
                 r"1 MWh $= 10^6$ Wh:",
                 rf"\frac{{{nf.sig(e['gpu_hours'], 7)} \times {nf.num(g['power_w'])} \times {nf.num(g['pue'])}}}"
                 rf"{{10^6}} = {nf.sig(e['mwh'], 6)}\ \text{{MWh}}"),
            Step(r"Carbon: energy times the grid's intensity (kg per kWh is tonnes per MWh):",
                 rf"{nf.sig(e['mwh'], 6)} \times {nf.num(g['intensity'])} = {nf.sig(e['tco2'], 6)}\ "
                 r"\text{t CO}_2\text{eq}"),
        )

    return Solution((
        Part("gpu_hours", "GPU-hours", Answer("number", float(e["gpu_hours"]), unit="hour", sig=FLOP_SIG)),
        Part("mwh", "energy", Answer("number", float(e["mwh"]), unit="MWh", sig=SIG)),
        Part("tco2", "carbon emitted", Answer("number", float(e["tco2"]), unit="t", sig=SIG))), steps)


SOLVERS = {"recompute": _solve_recompute, "mfu_tokens": _solve_mfu_tokens, "hfu": _solve_hfu,
           "scaling": _solve_scaling, "energy": _solve_energy}


# ---- sampling --------------------------------------------------------------------------------------
ACHIEVED = (95, 120, 138, 140, 150, 163, 180, 200, 250, 300, 350, 400)
POWER_W = (250, 300, 350, 400, 450, 500, 700, 1000)
INTENSITY = (0.385, 0.429, 0.233, 0.057, 0.7, 0.5, 0.35, 0.2, 0.1, 0.6)


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    easy = difficulty == "easy"
    figures = 2 if easy else 3
    if variant == "recompute":
        params = _scaled(rng.randint(10 ** (figures - 1), 10**figures - 1), rng.randint(
            9 - figures, 12 - figures))
        tokens = nf.round_sig(params * 10 ** (rng.randint(700, 2300) / 1000), figures)
        achieved = rng.choice(ACHIEVED) if easy else float(rng.decimal(40, 600, 1))
        recompute = rng.choice(RECOMPUTE) if difficulty != "easy" else "none" if rng.randint(0, 3) else "full"
        gpus = 8 * rng.randint(1, 512) if not easy else 2 ** rng.randint(3, 13)
        days = float(run_flops(params, tokens, recompute)) / (gpus * achieved * 1e12 * SECONDS_PER_DAY)
        if not 0.5 <= days <= 400:
            raise Rejected("a run of less than half a day or more than 400 days")
        return {"params": params, "tokens": tokens, "gpus": gpus, "achieved_tflops": achieved,
                "recompute": recompute}
    if variant == "mfu_tokens":
        return _sample_mfu_tokens(rng, difficulty)
    if variant == "hfu":
        return {**_sample_run_shape(rng, difficulty), "recompute": rng.choice(RECOMPUTE)}
    if variant == "scaling":
        n1 = 1 if easy else rng.choice((1, 8, 16, 32, 64))
        n2 = n1 * (2 ** rng.randint(2, 10) if easy else rng.randint(4, 512))
        per_gpu = rng.randint(30, 400) if easy else float(rng.decimal(20, 900, 1))
        efficiency = rng.randint(50, 99) / 100
        return {"base_gpus": n1, "base_tflops": nf.round_sig(n1 * per_gpu, 4), "gpus": n2,
                "pflops": nf.round_sig(n2 * per_gpu * efficiency / 1000, 3)}
    gpus = 2 ** rng.randint(3, 13) if easy else 8 * rng.randint(1, 1024)
    days = rng.randint(1, 99) if easy else float(rng.decimal(1, 120, 1))
    pue = rng.choice((1, 1.1, 1.2, 1.5)) if easy else float(rng.decimal(1.05, 1.6, 2))
    return {"gpus": gpus, "days": days, "power_w": rng.choice(POWER_W), "pue": pue,
            "intensity": rng.choice(INTENSITY) if easy else float(rng.decimal(0.02, 0.9, 3))}


def _sample_run_shape(rng: Rng, difficulty: str) -> dict[str, Any]:
    """A model of 1B to 999B parameters with a plausible shape, on a GPU of a common peak, and an MFU of 20 to
    65 % turned into the tokens/s a run would log (3 or 4 significant figures)."""
    figures = 3 if difficulty == "easy" else 4
    params = _scaled(rng.randint(10 ** (figures - 1), 10**figures - 1), rng.randint(
        10 - figures, 12 - figures))
    g = {"params": params, "layers": rng.randint(16, 128), "heads": rng.randint(8, 128),
         "head_dim": rng.choice((64, 80, 128, 256)), "seq_len": rng.choice((2048, 4096, 8192))}
    peak = rng.choice((125, 275, 312, 400, 989.4, 1979)) if difficulty != "easy" else rng.choice(
        (125, 275, 312, 400, 1000))
    mfu = rng.randint(20, 65) / 100
    # peak 10^12 × mfu / (FLOPs per token), exact (the decimal peak, the binary mfu), as one correctly rounded
    # integer division
    (pn, pd), (mn, md), per_token = _f(peak).as_integer_ratio(), mfu.as_integer_ratio(), palm_flops_per_token(g)
    rate = nf.round_sig(pn * 10**12 * mn * per_token.denominator / (pd * md * per_token.numerator), figures)
    return {**g, "tokens_per_s": rate, "peak_tflops": peak}


def _sample_mfu_tokens(rng: Rng, difficulty: str) -> dict[str, Any]:
    """A run's shape and throughput, and 5 to 60 tokens per parameter."""
    easy = difficulty == "easy"
    figures = 3 if easy else 4
    g = _sample_run_shape(rng, difficulty)
    gpus = 2 ** rng.randint(6, 13) if easy else 8 * rng.randint(8, 1024)
    tokens = nf.round_sig(g["params"] * 10 ** (rng.randint(700, 1800) / 1000), figures - 1)
    days = tokens / (g["tokens_per_s"] * gpus) / SECONDS_PER_DAY
    if not 1 <= days <= 400:
        raise Rejected("a run of less than a day or more than 400 days")
    return {**{k: g[k] for k in ("params", "layers", "heads", "head_dim", "seq_len", "tokens_per_s")},
            "gpus": gpus, "peak_tflops": g["peak_tflops"], "tokens": tokens}


# ---- named mistakes and student paths --------------------------------------------------------------


def _other_recompute(v: str, g: dict[str, Any], part: str) -> float:
    return _other_value(v, {**g, "recompute": "none" if g["recompute"] == "full" else "full"}, part)


MISTAKES = (
    Mistake("recomputation_ignored", "flops", "Full recomputation runs every layer's forward again: 8ND, not 6ND.",
            ("recompute",), lambda v, g, s: _other_recompute(v, g, "flops") if g["recompute"] == "full" else None),
    Mistake("recomputation_without_recomputing", "flops", "Without recomputation the step is 6ND; 8ND counts a "
            "forward that is not run.", ("recompute",),
            lambda v, g, s: _other_recompute(v, g, "flops") if g["recompute"] == "none" else None),
    Mistake("backward_as_forward", "ratio", "The backward pass takes two products per forward product.",
            ("recompute",), lambda v, g, s: s.value("ratio") - 1),
    Mistake("petaflop_seconds", "pf_days", "A PF-day is 10^15 FLOP/s for 86400 s, not 10^15 FLOP.",
            ("recompute",), lambda v, g, s: s.value("pf_days") * SECONDS_PER_DAY),
    Mistake("recomputation_ignored", "days", "The time follows 8ND/(nX) with recomputation.", ("recompute",),
            lambda v, g, s: _other_recompute(v, g, "days") if g["recompute"] == "full" else None),
    Mistake("attention_term_forgotten", "mfu", "The model FLOPs include the attention products, 12LHQT per "
            "token.", ("mfu_tokens",), lambda v, g, s: s.value("mfu") * float(6 * _f(g["params"]) /
                                                                         palm_flops_per_token(g))),
    Mistake("forward_only", "flops_per_token", "Training counts forward and backward: 6N (and 12LHQT), not 2N.",
            ("mfu_tokens",), lambda v, g, s: s.value("flops_per_token") / 3),
    Mistake("per_gpu_rate_as_cluster_rate", "days", "The throughput is per GPU: the cluster processes it times "
            "the number of GPUs.", ("mfu_tokens",), lambda v, g, s: s.value("days") * int(g["gpus"])),
    Mistake("recomputation_ignored", "hfu", "HFU counts the recomputed forward too: with full recomputation the "
            "hardware runs 8N + 16LHQT FLOPs per token, 4/3 of the model FLOPs.", ("hfu",),
            lambda v, g, s: s.value("mfu") if g["recompute"] == "full" else None),
    Mistake("recomputation_without_recomputing", "hfu", "Without recomputation the hardware runs only the "
            "model's FLOPs: HFU = MFU.", ("hfu",),
            lambda v, g, s: _other_recompute(v, g, "hfu") if g["recompute"] == "none" else None),
    Mistake("hardware_flops_in_mfu", "mfu", "MFU counts the model's FLOPs only, not the recomputed forward.",
            ("hfu",), lambda v, g, s: s.value("hfu") if g["recompute"] == "full" else None),
    Mistake("attention_term_forgotten", "mfu", "The model FLOPs include the attention products, 12LHQT per "
            "token.", ("hfu",), lambda v, g, s: s.value("mfu") * float(6 * _f(g["params"]) /
                                                                  palm_flops_per_token(g))),
    Mistake("attention_not_recomputed", "hardware", "The recomputed forward includes the attention products: "
            "4LHQT more per token, 16LHQT in all.", ("hfu",),
            lambda v, g, s: s.value("hardware") - float(4 * int(g["layers"]) * int(g["heads"]) *
                                                           int(g["head_dim"]) * int(g["seq_len"]))
            if g["recompute"] == "full" else None),
    Mistake("ratio_inverted", "ratio", "The ratio is HFU over MFU, at least 1.", ("hfu",),
            lambda v, g, s: 0.75 if g["recompute"] == "full" else None),
    Mistake("petaflops_as_teraflops", "per_gpu", "The scaled rate is in PFLOP/s: 1 PFLOP/s = 1000 TFLOP/s.",
            ("scaling",), lambda v, g, s: s.value("per_gpu") / 1000),
    Mistake("baseline_gpus_forgotten", "efficiency", "The baseline runs on its own GPUs: compare rates per GPU "
            "(the speedup over n/n_base, not over n).", ("scaling",),
            lambda v, g, s: None if int(g["base_gpus"]) == 1 else s.value("efficiency") / int(g["base_gpus"])),
    Mistake("hours_forgotten", "gpu_hours", "A day is 24 hours: GPU-hours = GPUs x days x 24.", ("energy",),
            lambda v, g, s: s.value("gpu_hours") / 24),
    Mistake("pue_forgotten", "mwh", "The data centre's overhead (PUE) multiplies the GPUs' energy.", ("energy",),
            lambda v, g, s: None if float(g["pue"]) == 1 else s.value("mwh") / float(g["pue"])),
    Mistake("watts_as_kilowatts", "mwh", "The power is in W: divide watt-hours by 10^6 for MWh.", ("energy",),
            lambda v, g, s: s.value("mwh") * 1000),
)


def _pf_days_from_rounded_c(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "pf_days", lambda c: c / PF_DAY, "flops")


def _days_from_rounded_c(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "days", lambda c: c / (int(g["gpus"]) * float(g["achieved_tflops"]) * 1e12)
                       / SECONDS_PER_DAY, "flops")


def _mwh_from_rounded_hours(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "mwh", lambda hours: hours * float(g["power_w"]) * float(g["pue"]) / 1e6, "gpu_hours")


def _tco2_from_rounded_mwh(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "tco2", lambda mwh: mwh * float(g["intensity"]), "mwh")


def _achieved_from_rounded(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "achieved", lambda per_token: per_token * float(g["tokens_per_s"]) / 1e12,
                       "flops_per_token")


def _mfu_from_rounded_achieved(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "mfu", lambda achieved: 100 * achieved / float(g["peak_tflops"]), "achieved")


def _efficiency_from_rounded_per_gpu(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "efficiency", lambda per_gpu: 100 * per_gpu / (float(g["base_tflops"]) / int(g["base_gpus"])),
                       "per_gpu")


def _efficiency_from_rounded_speedup(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "efficiency", lambda speedup: 100 * speedup / (int(g["gpus"]) / int(g["base_gpus"])),
                       "speedup")


def _hfu_from_rounded_hardware(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "hfu", lambda hardware: 100 * hardware * float(g["tokens_per_s"]) / 1e12
                       / float(g["peak_tflops"]), "hardware")


def _hfu_from_rounded_mfu(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "hfu", lambda mfu: mfu * (4 / 3 if g["recompute"] == "full" else 1), "mfu")


PATHS = (
    StudentPath("hfu_from_the_rounded_hardware_flops", "hfu", "Hardware FLOPs per token as answered times "
                "tokens/s over the peak.", ("hfu",), _hfu_from_rounded_hardware),
    StudentPath("hfu_from_the_rounded_mfu", "hfu", "MFU as answered times 8/6 (full recomputation) or 1.",
                ("hfu",), _hfu_from_rounded_mfu),
    StudentPath("efficiency_from_the_rounded_rate_per_gpu", "efficiency", "The rate per GPU as answered over the "
                "baseline's rate per GPU.", ("scaling",), _efficiency_from_rounded_per_gpu),
    StudentPath("efficiency_from_the_rounded_speedup", "efficiency", "The speedup as answered over the "
                "increase in GPUs, n/n_base.", ("scaling",), _efficiency_from_rounded_speedup),
    StudentPath("achieved_from_the_rounded_flops_per_token", "achieved", "FLOPs per token as answered times "
                "tokens/s.", ("mfu_tokens",), _achieved_from_rounded),
    StudentPath("mfu_from_the_rounded_achieved_rate", "mfu", "The achieved rate as answered over the peak.",
                ("mfu_tokens",), _mfu_from_rounded_achieved),
    StudentPath("pf_days_from_the_rounded_compute", "pf_days", "C as answered over 8.64e19.", ("recompute",),
                _pf_days_from_rounded_c),
    StudentPath("days_from_the_rounded_compute", "days", "C as answered over nX, in days.", ("recompute",),
                _days_from_rounded_c),
    StudentPath("energy_from_the_rounded_gpu_hours", "mwh", "GPU-hours as answered times power and PUE.",
                ("energy",), _mwh_from_rounded_hours),
    StudentPath("carbon_from_the_rounded_energy", "tco2", "Energy as answered times the intensity.", ("energy",),
                _tco2_from_rounded_mwh),
)
