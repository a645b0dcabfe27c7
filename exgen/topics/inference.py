"""Inference memory and latency: the KV cache, weights + cache at a context length, the largest batch that fits,
decode time per token (memory-bandwidth bound) and tokens/s, prefill vs decode.

Formulas and their sources:
    KV cache per token     2 (K and V) x n_layer x n_kv_heads x d_head x bytes per element (seeds 002, 004;
                           kipp.ly "Transformer inference arithmetic"); grouped-query attention (Ainslie et al.
                           2023) shares one K/V head between n_heads / n_kv_heads query heads, multi-query
                           attention (Shazeer 2019) has n_kv_heads = 1.  Llama-2-70B (Touvron et al. 2023,
                           Table 1 and its config: 80 layers, 64 query heads, 8 KV heads, d_head 128) stores
                           2 x 80 x 8 x 128 x 2 = 327,680 bytes per token in fp16.
    cache of a batch       per token x context length x batch; GB = 10^9 bytes
    weights                parameters x bytes per parameter (fp16/bf16 2, int8 1, int4 1/2)
    largest batch          floor((GPU memory - weights - reserve) / cache per sequence)
    decode step            memory-bandwidth bound: every weight (and, where stated, the batch's KV cache) is read
                           once per step; time = bytes read / bandwidth; tokens/s = batch / step time
    prefill                compute bound: 2 x parameters FLOPs per token (a multiply-add is 2 FLOPs; attention's
                           own FLOPs ignored), time = 2 N x batch x prompt / peak FLOP/s
Exact arithmetic (Fractions) throughout; sampled instances keep away from the floor's and ceiling's jumps.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant, each

KV_BYTES = {"fp32": Fraction(4), "fp16": Fraction(2), "bf16": Fraction(2), "fp8": Fraction(1)}
W_BYTES = {"fp16": Fraction(2), "bf16": Fraction(2), "int8": Fraction(1), "int4": Fraction(1, 2)}
GB = 10**9
SIG = 3
# A sampled floor/ceiling argument is at least 0.03 from an integer: a student dividing their own 3-figure
# answers (a relative change under 0.1%) lands on the same whole number (the max_batch path checks it).
MARGIN = Fraction(3, 100)


def _num(x: Any) -> str:
    """A given or a dtype size as the student reads it (2, not 2.0; 0.5)."""
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else nf.num(float(x))
    return nf.num(x)


# ---- the computations (pure, exact) ----------------------------------------------------------------


# The exact building blocks are kept per argument (typed: an int and a float of one value are apart): a draw's
# solver, mistakes and checks ask for the same few, and each is several Fraction operations (issue 12).


@lru_cache(maxsize=4096, typed=True)
def kv_per_token(n_layer: int, n_kv_heads: int, head_dim: int, dtype: str, factor: int = 2) -> Fraction:
    """Bytes of K and V cached per token, over all layers."""
    return factor * n_layer * n_kv_heads * head_dim * KV_BYTES[dtype]


@lru_cache(maxsize=4096, typed=True)
def weight_bytes(params_b: Any, dtype: str) -> Fraction:
    return _f(params_b) * GB * W_BYTES[dtype]


def _kv(g: dict[str, Any], heads: str = "n_kv_heads", factor: int = 2) -> Fraction:
    return kv_per_token(int(g["n_layer"]), int(g[heads]), int(g["head_dim"]), g["kv_dtype"], factor)


# ---- givens ----------------------------------------------------------------------------------------

_LAYERS = Given("n_layer", "transformer layers", "integer", low=1, high=1000)
_HEADS = Given("n_heads", "attention (query) heads per layer", "integer", low=1, high=1024)
_KV_HEADS = Given("n_kv_heads", "key/value heads per layer (= n_heads: multi-head; 1: multi-query; between: "
                  "grouped-query); divides n_heads", "integer", low=1, high=1024)
_HEAD_DIM = Given("head_dim", "dimension of one attention head", "integer", low=1, high=4096)
_KV_DTYPE = Given("kv_dtype", "dtype of the cached keys and values (fp32 4 bytes, fp16/bf16 2, fp8 1)", "choice",
                  choices=tuple(KV_BYTES))
_SEQ = Given("seq_len", "context length: tokens cached per sequence", "integer", low=1, high=10**7)
_BATCH = Given("batch", "sequences served together", "integer", low=1, high=10**6)
_PARAMS = Given("params_b", "model parameters, in billions", "number", low=1e-3, high=1e5)
_W_DTYPE = Given("w_dtype", "dtype of the weights (fp16/bf16 2 bytes, int8 1, int4 half a byte)", "choice",
                 choices=tuple(W_BYTES))
_BW = Given("bandwidth_gbs", "GPU memory bandwidth", "number", unit="GB/s", low=1, high=10**6)
_KV_GIVENS = (_LAYERS, _HEADS, _KV_HEADS, _HEAD_DIM, _KV_DTYPE)

VARIANTS = (
    Variant("kv_cache", "KV-cache bytes per token and for a batch at a context length (MHA, GQA, MQA); with a "
            "budget, the most tokens it holds", _KV_GIVENS + (_SEQ, _BATCH, Given(
                "budget_gb", "memory set aside for the cache (0: not asked)", "number", unit="GB", default=0,
                low=1e-3, high=10**6))),
    Variant("memory", "weights + KV cache memory at a context length; with a GPU size, the GPUs needed",
            (_PARAMS, _W_DTYPE) + _KV_GIVENS + (_SEQ, _BATCH, Given(
                "gpu_gb", "memory of one GPU (0: not asked)", "number", unit="GB", default=0, low=1, high=10**5))),
    Variant("max_batch", "the largest batch whose KV cache fits next to the weights on a GPU",
            (Given("gpu_gb", "GPU memory", "number", unit="GB", low=1, high=10**5), _PARAMS, _W_DTYPE)
            + _KV_GIVENS + (_SEQ, Given("reserve_gb", "memory reserved for activations and the runtime", "number",
                                        unit="GB", default=0, low=0, high=10**5))),
    Variant("decode", "time per decoding step as a memory-bandwidth bound, and tokens/s", (
        _PARAMS, _W_DTYPE, _BW, _BATCH,
        Given("kv_bytes_per_token", "KV-cache bytes per token (0: cache reads ignored)", "integer", unit="B",
              default=0, low=0, high=10**9),
        Given("context", "tokens in each sequence's cache (with kv_bytes_per_token)", "integer", default=0, low=0,
              high=10**7))),
    Variant("prefill", "prefill (compute bound) vs decode (bandwidth bound) time, and the time to a full answer", (
        _PARAMS, _W_DTYPE, _BW, Given("peak_tflops", "GPU peak throughput", "number", unit="TFLOP/s", low=1e-3,
                                      high=10**6),
        Given("prompt", "prompt tokens per sequence", "integer", low=1, high=10**7),
        Given("new_tokens", "tokens generated per sequence (one decoding step each)", "integer", low=1, high=10**7),
        Given("batch", "sequences processed together", "integer", default=1, low=1, high=10**6))),
)


_SPECS = {v.name: v for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    """The givens' declared kinds and bounds (exgen.givens.check), then what no single given's bounds say."""
    check(_SPECS[variant], g)
    if "n_kv_heads" in g and int(g["n_heads"]) % int(g["n_kv_heads"]):
        raise InvalidGivens("n_kv_heads must divide n_heads (each K/V head serves a whole group of query heads)")
    if variant == "max_batch":
        n = _batch_bound(g)[2]
        if n.numerator < n.denominator:  # n < 1: free < per_seq (the cache of a sequence is positive)
            raise InvalidGivens("not even one sequence's cache fits next to the weights")
    if variant == "decode" and (int(g["kv_bytes_per_token"]) > 0) != (int(g["context"]) > 0):
        raise InvalidGivens("give both kv_bytes_per_token and context, or neither")


# ---- solvers ---------------------------------------------------------------------------------------


def _gb(x: Fraction) -> Fraction:
    return x / GB


def _in_gb(x: Fraction) -> float:
    """float(x / GB) as one correctly rounded division of integers (the same float), for a key or a step."""
    return x.numerator / (x.denominator * GB)


def _attention_name(g: dict[str, Any]) -> str:
    h, kv = int(g["n_heads"]), int(g["n_kv_heads"])
    if kv == h:
        return "multi-head attention: every query head has its own K and V head"
    if kv == 1:
        return f"multi-query attention: one K/V head shared by all {h} query heads"
    return f"grouped-query attention: each of the {kv} K/V heads serves {h // kv} query heads"


def _kv_step(g: dict[str, Any]) -> Step:
    per = _kv(g)
    return Step(f"With {_attention_name(g)}, each layer caches a key and a value vector of {g['head_dim']} "
                f"entries per K/V head, {_num(KV_BYTES[g['kv_dtype']])} "
                f"byte{'' if KV_BYTES[g['kv_dtype']] == 1 else 's'} each ({g['kv_dtype']}):",
                rf"2 \times {g['n_layer']} \times {g['n_kv_heads']} \times {g['head_dim']} \times "
                rf"{_num(KV_BYTES[g['kv_dtype']])} = {nf.sig(per, 10)}\ \text{{B per token}}")


def _cache_bytes(g: dict[str, Any], batch: int) -> Fraction:
    return _kv(g) * int(g["seq_len"]) * batch


def _cache_step(g: dict[str, Any], batch: int, total: Fraction) -> Step:
    return Step(f"For {batch} sequence{'s' if batch > 1 else ''} of {g['seq_len']} tokens:",
                rf"{nf.sig(_kv(g), 10)} \times {g['seq_len']} \times {batch} = {nf.sig(total, 10)}\ \text{{B}} = "
                rf"{nf.sig(_in_gb(total), 6)}\ \text{{GB}}")


def _weights_step(g: dict[str, Any], w: Fraction) -> Step:
    size = W_BYTES[g["w_dtype"]]
    return Step(f"Weights: {_num(g['params_b'])} billion parameters at {_num(size)} "
                f"byte{'' if size == 1 else 's'} each ({g['w_dtype']}):", rf"{_num(g['params_b'])} \times 10^9 \times "
                rf"{_num(W_BYTES[g['w_dtype']])} = {nf.sig(_in_gb(w), 8)}\ \text{{GB}}")


def _number(value: Fraction, unit: str) -> Answer:
    return Answer("number", float(value), unit=unit, sig=SIG)


# Each solver computes its key, and hands over its worked solution as a function built when first read (issue 12):
# generation rejects most draws on the key alone.


def _solve_kv_cache(g: dict[str, Any]) -> Solution:
    per = _kv(g)
    total = _cache_bytes(g, int(g["batch"]))
    parts = [Part("per_token", "KV cache per token", Answer("integer", int(per), unit="B")),
             Part("total", "KV cache of the batch", _number(_in_gb(total), "GB"))]
    budget = _f(g["budget_gb"]) > 0
    if budget:
        tokens = _f(g["budget_gb"]) * GB / per
        parts.append(Part("max_tokens", "tokens the budget holds", Answer("integer", math.floor(tokens))))

    def steps() -> tuple[Step, ...]:
        shown = (_kv_step(g), _cache_step(g, int(g["batch"]), total))
        if not budget:
            return shown
        return shown + (Step(f"A budget of {_num(g['budget_gb'])} GB holds whole tokens only:",
                             rf"\left\lfloor \frac{{{_num(g['budget_gb'])} \times 10^9}}{{{nf.sig(per, 10)}}} "
                             rf"\right\rfloor = \lfloor {nf.sig(tokens, 8)} \rfloor = {math.floor(tokens)}"),)
    return Solution(tuple(parts), steps)


def _solve_memory(g: dict[str, Any]) -> Solution:
    w = weight_bytes(g["params_b"], g["w_dtype"])
    c = _cache_bytes(g, int(g["batch"]))
    total = w + c
    parts = [Part("weights", "weights", _number(_in_gb(w), "GB")), Part("cache", "KV cache", _number(_in_gb(c), "GB")),
             Part("total", "weights + KV cache", _number(_in_gb(total), "GB"))]
    gpus = _f(g["gpu_gb"]) > 0
    if gpus:
        ratio = _gb(total) / _f(g["gpu_gb"])
        parts.append(Part("gpus", "GPUs needed", Answer("integer", math.ceil(ratio))))

    def steps() -> tuple[Step, ...]:
        shown = (_weights_step(g, w), _kv_step(g), _cache_step(g, int(g["batch"]), c),
                 Step("Weights and cache together:", rf"{nf.sig(_in_gb(w), 8)} + "
                      rf"{nf.sig(_in_gb(c), 6)} = {nf.sig(_in_gb(total), 6)}\ \text{{GB}}"))
        if not gpus:
            return shown
        return shown + (Step(f"GPUs of {_num(g['gpu_gb'])} GB needed to hold it all (whole GPUs):",
                             rf"\left\lceil \frac{{{nf.sig(_in_gb(total), 6)}}}{{{_num(g['gpu_gb'])}}} \right\rceil = "
                             rf"\lceil {nf.sig(ratio, 6)} \rceil = {math.ceil(ratio)}"),)
    return Solution(tuple(parts), steps)


def _solve_max_batch(g: dict[str, Any]) -> Solution:
    w = weight_bytes(g["params_b"], g["w_dtype"])
    reserve = _f(g["reserve_gb"])
    free, per_seq, n = _batch_bound(g)

    def steps() -> tuple[Step, ...]:
        minus = rf" - {_num(reserve)}" if reserve else ""
        return (_weights_step(g, w), Step("Memory left for the cache" + (" after the reserve" if reserve else "") + ":",
                                          rf"{_num(g['gpu_gb'])} - {nf.sig(_in_gb(w), 8)}{minus} = "
                                          rf"{nf.sig(_in_gb(free), 8)}\ \text{{GB}}"),
                _kv_step(g), Step(f"One sequence of {g['seq_len']} tokens caches",
                                  rf"{nf.sig(_kv(g), 10)} \times {g['seq_len']} = {nf.sig(per_seq, 10)}\ \text{{B}} = "
                                  rf"{nf.sig(_in_gb(per_seq), 6)}\ \text{{GB}}"),
                Step("Whole sequences only:", rf"\left\lfloor \frac{{{nf.sig(_in_gb(free), 8)}}}{{{nf.sig(_in_gb(per_seq), 6)}}}"
                                             rf"\right\rfloor = \lfloor {nf.sig(n, 6)} \rfloor = {math.floor(n)}"))
    return Solution((Part("free", "memory left for the cache", _number(_in_gb(free), "GB")),
                     Part("per_sequence", "KV cache per sequence", _number(_in_gb(per_seq), "GB")),
                     Part("max_batch", "largest batch", Answer("integer", math.floor(n)))), steps)


def _batch_bound(g: dict[str, Any], reserve_gb: Any = None) -> tuple[Fraction, Fraction, Fraction]:
    """max_batch's (bytes free for the cache, cache bytes of one sequence, sequences that fit), exact; the
    reserve may be replaced (a mistake ignores it). Kept per instance: the sampler, the check, the solver and two
    mistakes ask for them."""
    return _batch_numbers(g["gpu_gb"], g["params_b"], g["w_dtype"], g["reserve_gb"] if reserve_gb is None else
                          reserve_gb, int(g["n_layer"]), int(g["n_kv_heads"]), int(g["head_dim"]), g["kv_dtype"],
                          int(g["seq_len"]))


@lru_cache(maxsize=4096, typed=True)
def _batch_numbers(gpu_gb: Any, params_b: Any, w_dtype: str, reserve_gb: Any, n_layer: int, n_kv_heads: int,
                   head_dim: int, kv_dtype: str, seq_len: int) -> tuple[Fraction, Fraction, Fraction]:
    gpu, weights, reserve = _f(gpu_gb), weight_bytes(params_b, w_dtype), _f(reserve_gb)
    per_token = kv_per_token(n_layer, n_kv_heads, head_dim, kv_dtype)
    if gpu.denominator == weights.denominator == reserve.denominator == per_token.denominator == 1:
        # whole bytes (every sampled instance): integer arithmetic, one Fraction each (max_batch takes 3-4 draws)
        free_bytes = gpu.numerator * GB - weights.numerator - reserve.numerator * GB
        per_bytes = per_token.numerator * seq_len
        return Fraction(free_bytes), Fraction(per_bytes), Fraction(free_bytes, per_bytes)
    free = gpu * GB - weights - reserve * GB
    per_seq = per_token * seq_len
    return free, per_seq, free / per_seq


def decode_bytes(g: dict[str, Any]) -> tuple[Fraction, Fraction]:
    """(weight bytes, cache bytes) read in one decoding step."""
    return (weight_bytes(g["params_b"], g["w_dtype"]),
            Fraction(int(g.get("kv_bytes_per_token", 0)) * int(g.get("context", 0)) * int(g["batch"])))


def _solve_decode(g: dict[str, Any]) -> Solution:
    w, c = decode_bytes(g)
    b, bw = int(g["batch"]), _f(g["bandwidth_gbs"])
    step_s = (w + c) / (bw * GB)

    def steps() -> tuple[Step, ...]:
        shown = [_weights_step(g, w)]
        if c:
            shown.append(Step(f"Each step also reads the whole KV cache of the {b} sequence{'s' if b > 1 else ''}:",
                              rf"{g['kv_bytes_per_token']} \times {g['context']} \times {b} = {nf.sig(_in_gb(c), 8)}\ "
                              r"\text{GB}"))
        read = rf"({nf.sig(_in_gb(w), 8)} + {nf.sig(_in_gb(c), 8)})" if c else nf.sig(_in_gb(w), 8)
        shown += [Step("A decoding step is bound by memory bandwidth: it reads every byte once.",
                       rf"\frac{{{read}\ \text{{GB}}}}{{{_num(bw)}\ \text{{GB/s}}}} = {nf.sig(step_s * 1000, 6)}\ "
                       r"\text{ms}"),
                  Step(f"Each step produces one token for each of the {b} sequences:" if b > 1 else
                       "Each step produces one token:",
                       rf"\frac{{{b}}}{{{nf.sig(step_s, 6)}\ \text{{s}}}} = {nf.sig(b / step_s, 6)}\ \text{{tokens/s}}")]
        return tuple(shown)
    return Solution((Part("step_ms", "time per decoding step", _number(step_s * 1000, "ms")),
                     Part("tokens_per_s", "tokens per second", _number(b / step_s, "token/s"))), steps)


def prefill_times(g: dict[str, Any], flops_per_fma: int = 2) -> tuple[Fraction, Fraction]:
    """(prefill seconds, seconds per decoding step)."""
    return _prefill_times(g["params_b"], int(g["batch"]), int(g["prompt"]), g["peak_tflops"], g["w_dtype"],
                          g["bandwidth_gbs"], flops_per_fma)


@lru_cache(maxsize=4096, typed=True)
def _prefill_times(params_b: Any, batch: int, prompt: int, peak_tflops: Any, w_dtype: str, bandwidth_gbs: Any,
                   flops_per_fma: int) -> tuple[Fraction, Fraction]:
    # each as one Fraction of integers: 2 N B P / (peak 10^12), and w / (bandwidth GB)
    n, peak, w, bw = _f(params_b), _f(peak_tflops), weight_bytes(params_b, w_dtype), _f(bandwidth_gbs)
    pre = Fraction(flops_per_fma * n.numerator * GB * batch * prompt * peak.denominator,
                   n.denominator * peak.numerator * 10**12)
    return pre, Fraction(w.numerator * bw.denominator, w.denominator * bw.numerator * GB)


def _solve_prefill(g: dict[str, Any]) -> Solution:
    pre, dec = prefill_times(g)
    b, p, t = int(g["batch"]), int(g["prompt"]), int(g["new_tokens"])
    total = pre + t * dec

    def steps() -> tuple[Step, ...]:
        tokens = f"{b} \\times {p}" if b > 1 else f"{p}"
        w = weight_bytes(g["params_b"], g["w_dtype"])
        return (Step(f"Prefill is compute bound: 2 FLOPs per parameter per token for {b * p} prompt tokens, at the "
                     "peak:", rf"\frac{{2 \times {_num(g['params_b'])} \times 10^9 \times {tokens}}}"
                     rf"{{{_num(g['peak_tflops'])} \times 10^{{12}}\ \text{{FLOP/s}}}} = {nf.sig(pre * 1000, 6)}\ "
                     r"\text{ms}"),
                _weights_step(g, w),
                Step("A decoding step is bandwidth bound: it reads every weight once"
                     + (" (for the whole batch)" if b > 1 else "") + ":",
                     rf"\frac{{{nf.sig(_in_gb(w), 8)}\ \text{{GB}}}}{{{_num(g['bandwidth_gbs'])}\ \text{{GB/s}}}} = "
                     rf"{nf.sig(dec * 1000, 6)}\ \text{{ms}}"),
                Step(f"Prefill, then {t} decoding steps:", rf"{nf.sig(pre * 1000, 6)}\ \text{{ms}} + {t} \times "
                     rf"{nf.sig(dec * 1000, 6)}\ \text{{ms}} = {nf.sig(total, 6)}\ \text{{s}}"))
    return Solution((Part("prefill_ms", "prefill time", _number(pre * 1000, "ms")),
                     Part("decode_ms", "time per decoding step", _number(dec * 1000, "ms")),
                     Part("total_s", "time to the last token", _number(total, "s"))), steps)


_SOLVERS = {"kv_cache": _solve_kv_cache, "memory": _solve_memory, "max_batch": _solve_max_batch,
            "decode": _solve_decode, "prefill": _solve_prefill}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _SOLVERS[variant](givens)


# ---- sampling --------------------------------------------------------------------------------------

# (n_layer, n_heads, head_dim): shapes of published models (GPT-2/3, Llama, Mistral, Falcon, OPT families).
SHAPES = {"easy": ((12, 12, 64), (24, 16, 64), (24, 16, 128), (32, 32, 128), (40, 40, 128), (48, 25, 64),
                   (16, 32, 64), (28, 16, 128), (36, 20, 64), (22, 32, 64), (20, 20, 64), (30, 24, 128),
                   (26, 20, 128), (18, 16, 128), (40, 32, 128), (24, 24, 128)),
          "medium": ((32, 32, 128), (40, 40, 128), (80, 64, 128), (60, 52, 128), (32, 32, 128), (48, 40, 128),
                     (28, 28, 128), (26, 16, 256), (42, 16, 256), (64, 48, 128)),
          "hard": ((80, 64, 128), (96, 96, 128), (126, 128, 128), (60, 56, 128), (88, 96, 128), (64, 64, 128),
                   (46, 32, 128), (118, 48, 128), (94, 64, 128))}
KV_OPTIONS = {"easy": ("mha",), "medium": ("mha", "gqa"), "hard": ("gqa", "mqa", "gqa")}
PARAMS_B = (1.3, 2.7, 6.7, 7, 8, 13, 14, 30, 34, 40, 65, 70, 72, 110, 180, 405)


def _kv_givens(rng: Rng, difficulty: str) -> dict[str, Any]:
    layers, heads, hd = rng.choice(SHAPES[difficulty])
    kind = rng.choice(KV_OPTIONS[difficulty])
    groups = [k for k in (2, 4, 8, 16) if heads % k == 0 and k < heads]
    kv = heads if kind == "mha" or not groups else 1 if kind == "mqa" else heads // rng.choice(groups)
    dtypes = ("fp16", "bf16") if difficulty == "easy" else ("fp16", "bf16", "fp8", "fp32")
    return {"n_layer": layers, "n_heads": heads, "n_kv_heads": kv, "head_dim": hd, "kv_dtype": rng.choice(dtypes)}


def _shape_params(g: dict[str, Any]) -> float:
    """About 12 L d^2 parameters (attention and a 4d MLP per layer, seed 001), in billions to 0.1: the sampled
    model's size matches its shape."""
    return _params_of_shape(int(g["n_layer"]), int(g["n_heads"]), int(g["head_dim"]))


@lru_cache(maxsize=256)
def _params_of_shape(n_layer: int, n_heads: int, head_dim: int) -> float:
    d = n_heads * head_dim
    return max(0.1, round(12 * n_layer * d * d / 1e9, 1))


ONE_GPU_GB = 192  # decode/prefill instances keep the weights within one GPU's memory (a B200's 192 GB)


def _seq(rng: Rng, difficulty: str) -> int:
    if difficulty == "easy":
        return rng.randint(4, 256) * 128
    return rng.randint(1, 128) * 128 + (0 if difficulty != "hard" else rng.randint(0, 127))


def _away(x: Fraction, what: str) -> None:
    # min(x - floor(x), ceil(x) - x) < MARGIN, in integers: x = n/d (d > 0) lies r/d above floor(x), r = n mod d
    n, d = x.numerator, x.denominator
    r = n % d
    if min(r, d - r) * MARGIN.denominator < MARGIN.numerator * d:
        raise Rejected(f"{what} is too close to an integer to round by hand")


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    hard = difficulty == "hard"
    if variant == "kv_cache":
        g = {**_kv_givens(rng, difficulty), "seq_len": _seq(rng, difficulty),
             "batch": rng.randint(1, 16) if difficulty == "easy" else rng.randint(1, 64), "budget_gb": 0}
        if hard:
            g["budget_gb"] = rng.randint(4, 160)
            _away(_f(g["budget_gb"]) * GB / _kv(g), "the token count")
        return g
    w_dtypes = ("fp16", "bf16") if difficulty == "easy" else tuple(W_BYTES)
    if variant == "memory":
        kv = _kv_givens(rng, difficulty)
        g = {"params_b": _shape_params(kv), "w_dtype": rng.choice(w_dtypes), **kv,
             "seq_len": _seq(rng, difficulty), "batch": rng.randint(1, 32), "gpu_gb": 0}
        if hard:
            g["gpu_gb"] = rng.choice((24, 40, 48, 80, 94, 141))
            _away(_gb(weight_bytes(g["params_b"], g["w_dtype"]) + _kv(g) * g["seq_len"] * g["batch"])
                  / g["gpu_gb"], "the GPU count")
        return g
    if variant == "max_batch":
        kv = _kv_givens(rng, difficulty)
        g = {"gpu_gb": rng.choice((24, 40, 48, 80, 94, 141, 192)), "params_b": _shape_params(kv),
             "w_dtype": rng.choice(w_dtypes), **kv, "seq_len": _seq(rng, difficulty),
             "reserve_gb": rng.randint(1, 8) if hard else 0}
        n = _batch_bound(g)[2]
        if n.numerator < n.denominator or n.numerator > 2000 * n.denominator:  # n < 1 or n > 2000
            raise Rejected("no sequence fits, or an implausibly large batch")
        _away(n, "the batch bound")
        return g
    bandwidth = rng.randint(80, 800) * 10
    params = float(rng.decimal(1, 96, 1)) if variant == "decode" and difficulty == "easy" else rng.choice(PARAMS_B)
    if variant == "decode":
        g = {"params_b": params, "w_dtype": rng.choice(w_dtypes), "bandwidth_gbs": bandwidth,
             "batch": 1 if difficulty == "easy" else rng.randint(1, 64), "kv_bytes_per_token": 0, "context": 0}
        if hard:
            kv = _kv_givens(rng, "medium")
            g.update(params_b=_shape_params(kv), kv_bytes_per_token=int(_kv(kv)), context=_seq(rng, "hard"))
    else:
        g = {"params_b": params, "w_dtype": rng.choice(w_dtypes), "bandwidth_gbs": bandwidth,
             "peak_tflops": rng.choice((125, 312, 989, 1979, 2250, 165, 362)),
             "prompt": rng.randint(1, 64) * 64 if not hard else rng.randint(100, 8000),
             "new_tokens": rng.randint(16, 1024), "batch": 1 if difficulty != "hard" else rng.randint(2, 64)}
    if weight_bytes(g["params_b"], g["w_dtype"]) > ONE_GPU_GB * GB:
        raise Rejected("the weights do not fit one GPU")
    return g


# ---- named mistakes --------------------------------------------------------------------------------


def _kv_wrong(part: str, heads: str = "n_kv_heads", factor: int = 2, gib: bool = False):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if heads == "n_heads" and g["n_heads"] == g["n_kv_heads"]:
            return None
        per = _kv(g, heads, factor)
        if part == "per_token":
            return int(per)
        tokens = int(g["seq_len"]) * (1 if part == "per_sequence" else int(g.get("batch", 1)))
        # float(per * tokens / unit) as one correctly rounded division of integers: the same float
        return per.numerator * tokens / (per.denominator * (2**30 if gib else GB))
    return wrong


def _weights_wrong(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    return None if W_BYTES[g["w_dtype"]] == 2 else float(_f(g["params_b"]) * 2)


def _decode_wrong(part: str, per_sequence: bool = False, no_cache: bool = False, one_byte: bool = False):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        w, c = decode_bytes(g)
        if no_cache and not c or one_byte and W_BYTES[g["w_dtype"]] == 1 or per_sequence and g["batch"] == 1:
            return None
        if one_byte:
            w = _f(g["params_b"]) * GB
        # step = (w + c) / (bandwidth GB) = top / bottom; each float below is one correctly rounded division of
        # integers, the float the Fraction gives (c is whole bytes)
        bw = _f(g["bandwidth_gbs"])
        top = (w.numerator + (0 if no_cache else c.numerator) * w.denominator) * bw.denominator
        bottom = w.denominator * bw.numerator * GB
        if part == "step_ms":
            return top * 1000 / bottom
        return (1 if per_sequence else int(g["batch"])) * bottom / top
    return wrong


def _max_batch_wrong(kind: str):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if kind == "reserve" and not _f(g["reserve_gb"]):
            return None
        n = _batch_bound(g, reserve_gb=0 if kind == "reserve" else None)[2]
        return math.ceil(n) if kind == "ceil" else math.floor(n)
    return wrong


def _prefill_wrong(part: str, kind: str):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        pre, dec = prefill_times(g, 1 if kind == "fma" else 2)
        if kind == "batch" and g["batch"] == 1:
            return None
        if kind == "batch":
            dec = dec * int(g["batch"])
        total = pre + int(g["new_tokens"]) * dec
        return float({"prefill_ms": pre * 1000, "total_s": total}[part])
    return wrong


MISTAKES = (
    Mistake("k_or_v_only", "per_token", "Both the keys and the values are cached: the factor 2.", ("kv_cache",),
            _kv_wrong("per_token", factor=1)),
    Mistake("query_heads_counted", "per_token", "With grouped- or multi-query attention only the K/V heads are "
            "cached, not every query head.", ("kv_cache",), _kv_wrong("per_token", heads="n_heads")),
    Mistake("query_heads_counted", "total", "Only the K/V heads are cached, not every query head.",
            ("kv_cache", "memory"), _kv_wrong("total", heads="n_heads")),
    Mistake("gib_for_gb", "total", "The question asks for GB (10^9 bytes), not GiB (2^30 bytes).", ("kv_cache",),
            _kv_wrong("total", gib=True)),
    Mistake("k_or_v_only", "cache", "Both the keys and the values are cached: the factor 2.", ("memory",),
            lambda v, g, s: float(_kv(g, factor=1) * int(g["seq_len"]) * int(g["batch"]) / GB)),
    Mistake("two_bytes_assumed", "weights", "Each parameter takes the bytes of the weights' dtype, not always 2.",
            ("memory",), _weights_wrong),
    Mistake("k_or_v_only", "per_sequence", "Both the keys and the values are cached: the factor 2.",
            ("max_batch",), _kv_wrong("per_sequence", factor=1)),
    Mistake("rounded_up", "max_batch", "A partial sequence does not fit: round down.", ("max_batch",),
            _max_batch_wrong("ceil")),
    Mistake("reserve_ignored", "max_batch", "The reserved memory is not available to the cache.", ("max_batch",),
            _max_batch_wrong("reserve")),
    Mistake("one_byte_per_parameter", "step_ms", "Each parameter takes the bytes of its dtype.", ("decode",),
            _decode_wrong("step_ms", one_byte=True)),
    Mistake("cache_reads_ignored", "step_ms", "Each step also reads the KV cache of every sequence.", ("decode",),
            _decode_wrong("step_ms", no_cache=True)),
    Mistake("per_sequence_rate", "tokens_per_s", "Each step yields one token for every sequence in the batch.",
            ("decode",), _decode_wrong("tokens_per_s", per_sequence=True)),
    Mistake("fma_as_one_flop", "prefill_ms", "A multiply-add is 2 FLOPs: 2 FLOPs per parameter per token.",
            ("prefill",), _prefill_wrong("prefill_ms", "fma")),
    Mistake("weights_read_per_sequence", "total_s", "A decoding step reads the weights once for the whole batch.",
            ("prefill",), _prefill_wrong("total_s", "batch")),
)


# ---- student paths ---------------------------------------------------------------------------------


def _reported(solution: Solution, part: str) -> tuple[Fraction, ...]:
    """A part's key as the student reports it (SIG figures), exactly: the decimal they write, at a tie either
    neighbour (`nf.held`: the printed key rounds it away from zero, a student may round it to even)."""
    return tuple(Fraction(repr(v)) for v in nf.held(solution.value(part), SIG))


def _sum_of_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The student adds their own 3-figure answers for the weights and the cache, and reports the sum to 3
    figures."""
    return each(lambda w, c: nf.held(w + c, SIG), _reported(solution, "weights"), _reported(solution, "cache"))


def _batch_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The student divides their own 3-figure answers (free memory, cache per sequence) and rounds down."""
    return each(lambda free, per: math.floor(free / per), _reported(solution, "free"),
                _reported(solution, "per_sequence"))


def _rate_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The student divides the batch by their own 3-figure step time, and reports the rate to 3 figures."""
    return each(lambda step: nf.held(int(g["batch"]) * 1000 / step, SIG), _reported(solution, "step_ms"))


def _total_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The student adds their own 3-figure prefill and decode-step times, and reports the total to 3 figures."""
    return each(lambda pre, dec: nf.held((pre + int(g["new_tokens"]) * dec) / 1000, SIG),
                _reported(solution, "prefill_ms"), _reported(solution, "decode_ms"))


PATHS = (
    StudentPath("sum_of_rounded", "total", _sum_of_rounded.__doc__, ("memory",), _sum_of_rounded),
    StudentPath("from_rounded", "max_batch", _batch_from_rounded.__doc__, ("max_batch",), _batch_from_rounded),
    StudentPath("from_rounded", "tokens_per_s", _rate_from_rounded.__doc__, ("decode",), _rate_from_rounded),
    StudentPath("from_rounded", "total_s", _total_from_rounded.__doc__, ("prefill",), _total_from_rounded),
)

TOPIC = Topic(
    name="inference",
    description="KV-cache memory (MHA/GQA/MQA), weights + cache, largest batch, decode time and tokens/s, "
                "prefill vs decode",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
