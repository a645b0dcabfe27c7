"""The sampler: random graphs and inputs by difficulty, the checks that keep every asked cell well conditioned
(no cancellation, no zero, magnitudes for 4 significant figures), the seeds and shown cells, and the numbering
drawn last."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Sequence

from exgen.rng import Rng
from exgen.topics.autodiff.arithmetic import FAST_FRACTIONS, Undefined, Value, _coprime, _float, _gcd, _mul
from exgen.topics.autodiff.graph import _SHIFT, NUMBERINGS, Graph, Node, graph_lines, numbered, vid, vname
from exgen.topics.autodiff.instance import (Instance, _exact_jacobian, _remember, exact_adjoints, exact_partials,
                                            exact_tangents, instance, unit)
from exgen.topics.autodiff.ops import OPS, TRANSCENDENTAL
from exgen.topics.autodiff.paths import _carried_misses
from exgen.topics.autodiff.solvers import always_asked, giveaways
from exgen.topics.autodiff.trace import AdjointRow, cell_values, primal_values
from exgen.topics.base import Rejected

MAX_PARTS = 26     # a sampled question stays one page of parts, (a)-(z); a user's own graph may have more


# inputs, intermediate nodes, (kind of input values, low, high), transcendental ops allowed, magnitude bound
LEVELS = {
    "easy": ((2,), (3, 4), ("int", -3, 5), 1, 1000),
    "medium": ((2, 3), (4, 6), ("dec1", 0.5, 3.0), 2, 10000),
    "hard": ((3,), (6, 8), ("dec2", 0.25, 3.0), 4, 10000),
}
UNARY_POOL = ("sq", "sq", "exp", "log", "sin", "cos")
OP_POOL = ("add",) * 3 + ("sub",) * 2 + ("mul",) * 3 + ("sq",) * 2 + ("div", "exp", "log", "sin", "cos")
# (inputs n, outputs m) of a Jacobian question: forward mode (n passes) is cheaper in some, reverse in others
JACOBIAN_SHAPES = {
    "easy": ((1, 2), (2, 1), (2, 2)),
    "medium": ((1, 2), (2, 1), (2, 2), (1, 3), (3, 1)),
    "hard": ((1, 3), (3, 1), (2, 3), (3, 2), (3, 3)),
}
SHAPE_TRIES = 50
MAX_ANGLE = 10.0     # |argument| of a sampled sin or cos, in radians
CANCELLATION = 0.05  # a sum smaller than this fraction of its largest term loses digits on a calculator


_SMALL = {v: Fraction(v) for v in range(-10, 11)}


def _draw_inputs(rng: Rng, n: int, spec: tuple[str, float, float]) -> tuple[list[Any], list[Fraction]]:
    """The inputs as givens (ints, or floats of short decimals) and exactly (what _fraction reads back from
    them: a short decimal's float prints as that decimal)."""
    kind, lo, hi = spec
    if kind == "int":
        choices = [v for v in range(int(lo), int(hi) + 1) if v != 0]
        xs = [rng.choice(choices) for _ in range(n)]
        exact = [_SMALL[v] if v in _SMALL else Fraction(v) for v in xs]
    else:  # rng.decimal(lo, hi, places): the same draws, each Fraction built from its integers directly
        scale = 10 if kind == "dec1" else 100
        low, high = round(lo * scale), round(hi * scale)
        ks = [rng.randint(low, high) for _ in range(n)]
        exact = ([_coprime(k // g, scale // g) for k in ks for g in (_gcd(k, scale),)] if FAST_FRACTIONS
                 else [Fraction(k, scale) for k in ks])
        xs = [k / scale for k in ks]  # float(k / scale as a Fraction): int division is correctly rounded
    if len(set(xs)) < n:
        raise Rejected("inputs must differ")
    return xs, exact


# Each op of a pool with what random_graph asks of it: (name, binary, transcendental).
def _pool(names: Sequence[str]) -> tuple[tuple[str, bool, bool], ...]:
    return tuple((name, OPS[name].arity == 2, name in TRANSCENDENTAL) for name in names)


_OP_POOL, _UNARY_POOL = _pool(OP_POOL), _pool(UNARY_POOL)
_PLAIN_POOL, _PLAIN_UNARY = _pool(("add", "mul", "sub")), _pool(("sq",))  # once the transcendental budget is spent
_COMMUTATIVE = ("add", "mul")


def random_graph(rng: Rng, n: int, size: int, transcendental: int, outputs: Sequence[int] = (1, 2)) -> Graph:
    """A random trace of `size` nodes on `n` inputs whose number of outputs (unused nodes) is in `outputs`.

    Nodes are kept by position p = index + n - 1 (inputs 0..n-1, then v_1, v_2, ...), so the nodes drawn so far
    are exactly the positions below the next one; `unused` lists the unused ones in order.  Each draw is the one
    `rng.choice` would make from the same list (seq[randint(0, len(seq) - 1)]), in the same order."""
    draw = rng.below
    uses = [0] * (n + size)
    depends = [1 << p for p in range(n)] + [0] * size  # the inputs each node depends on, as bits
    unused = list(range(n))
    ops: list[str] = []
    operands: list[tuple[int, ...]] = []  # each node's args (indices); its Node is built once the graph is kept
    seen: set[tuple] = set()
    budget = transcendental
    for p in range(n, n + size):  # p nodes exist: positions 0..p-1
        pool = _OP_POOL if p > 1 else _UNARY_POOL  # one input: the first op is unary
        op, binary, special = pool[draw(len(pool))]
        if special:
            if budget == 0:
                pool = _PLAIN_POOL if p > 1 else _PLAIN_UNARY
                op, binary, special = pool[draw(len(pool))]
            else:
                budget -= 1
        if binary:
            free = len(unused)
            if free:
                i = draw(free)
                a = unused[i]
                if draw(2) and free > 1:  # b from the unused nodes other than a
                    r = draw(free - 1)
                    b = unused[r if r < i else r + 1]
                else:  # b from every node other than a
                    r = draw(p - 1)
                    b = r if r < a else r + 1
            else:
                a = draw(p)
                draw(2)  # a coin for "b among the unused ones", of which there are none
                r = draw(p - 1)
                b = r if r < a else r + 1
            if draw(2):
                a, b = b, a
            key: tuple = (op, a, b) if a < b or op not in _COMMUTATIVE else (op, b, a)
            if key in seen:
                raise Rejected("a node repeats another")
            if not uses[a]:
                unused.remove(a)
            if not uses[b]:
                unused.remove(b)
            uses[a] += 1
            uses[b] += 1
            depends[p] = depends[a] | depends[b]
            args: tuple[int, ...] = (a - n + 1, b - n + 1)
        else:
            a = unused[draw(len(unused))] if unused and draw(3) else draw(p)
            key = (op, a)
            if key in seen:
                raise Rejected("a node repeats another")
            if not uses[a]:
                unused.remove(a)
            uses[a] += 1
            depends[p] = depends[a]
            args = (a - n + 1,)
        seen.add(key)
        unused.append(p)
        ops.append(op)
        operands.append(args)
    if unused[0] < n:
        raise Rejected("an input is unused")
    if len(unused) > max(outputs):  # every unused node is an output (a sink)
        raise Rejected("too many outputs")
    if max(uses) < 2:
        raise Rejected("no shared variable: adjoints would not accumulate")
    every = (1 << n) - 1  # inputs <= graph.ancestors(k)
    if any(depends[p] != every for p in unused):
        raise Rejected("an output does not depend on every input")
    sinks = [p - n + 1 for p in unused]
    nodes = tuple(map(Node, range(1, size + 1), ops, operands))
    if len(sinks) < min(outputs):  # too few sinks: intermediates that depend on every input are outputs too
        inner = [p - n + 1 for p in range(n, n + size) if uses[p] > 0 and depends[p] == every]
        if len(inner) < min(outputs) - len(sinks):
            raise Rejected("too few nodes that could be outputs")
        extra = rng.shuffle(inner)[: min(outputs) - len(sinks)]
        return Graph(n, nodes, tuple(sorted(sinks + extra)))
    return Graph(n, nodes, tuple(sinks))


def _below(v: Value, threshold: float) -> bool:
    """abs(v) < threshold, decided exactly as Python compares a Fraction with a float: the float of |v| decides
    unless it equals the threshold (rounding is monotone and the threshold is a float)."""
    if type(v) is Fraction:
        f = abs(v.numerator / v.denominator)
        return f < threshold if f != threshold else abs(v) < threshold
    return abs(v) < threshold


def _above(v: Value, threshold: float) -> bool:
    """abs(v) > threshold, as Python decides it (see _below)."""
    if type(v) is Fraction:
        f = abs(v.numerator / v.denominator)
        return f > threshold if f != threshold else abs(v) > threshold
    return abs(v) > threshold


def _cancels(total: Value, terms: Sequence[Value]) -> bool:
    """abs(total) < CANCELLATION * max(abs(t) for t in terms), with Python's semantics for Fractions and floats
    (the max's float, times CANCELLATION, compared with |total| exactly)."""
    return _below(total, CANCELLATION * max(abs(_float(t)) for t in terms))


def _check_values(values: Sequence[Value], limit: float) -> None:
    for v in values:
        f = abs(_float(v))
        if f > limit or (0 < f < 0.01):
            raise Rejected("a value is too large or too close to zero for 4 significant figures")


def _check_sums(graph: Graph, vals: dict[int, Value], partials, dots: dict[int, Value] | None) -> None:
    """No catastrophic cancellation in a primal sum or difference, or in a tangent's sum of terms."""
    for nd in graph.nodes:
        if nd.op in ("add", "sub"):
            if _cancels(vals[nd.index], [vals[a] for a in nd.args]):
                raise Rejected("cancellation")
        if dots is not None and len(nd.args) == 2:
            terms = [_mul(p, dots[a]) for p, a in zip(partials[nd.index], nd.args)]
            if _cancels(dots[nd.index], terms):  # an exact 0 from two nonzero terms too
                raise Rejected("cancellation in a tangent")


def _check_adjoint_rows(rows: Sequence[AdjointRow]) -> None:
    """An accumulation that (nearly) cancels — ±189.40 summing to an exact 0 included — is decided by the
    digits a student carries, not by the method."""
    for r in rows:
        if r.accumulates and _cancels(r.value, (r.before, r.contribution)):
            raise Rejected("cancellation in an accumulation")


def _is_zero(v: Value) -> bool:
    return v.numerator == 0 if type(v) is Fraction else v == 0


def _sample_graph(rng: Rng, difficulty: str, n: int, outputs: Sequence[int] = (1, 2)) -> tuple[list[Any], Instance]:
    """A random graph and inputs that pass every check on the graph alone: (the inputs as givens, the instance)."""
    _, sizes, xspec, transcendental, limit = LEVELS[difficulty]
    graph = random_graph(rng, n, rng.randint(*sizes), transcendental, outputs)
    xs, exact = _draw_inputs(rng, n, xspec)
    vals = primal_values(graph, exact)
    if any(_is_zero(vals[nd.index]) for nd in graph.nodes):
        raise Rejected("a primal value is 0")
    if any(nd.op in ("sin", "cos") and _above(vals[nd.args[0]], MAX_ANGLE) for nd in graph.nodes):
        raise Rejected("an angle a calculator would need more figures of")
    _check_values([vals[nd.index] for nd in graph.nodes], limit)
    inst = Instance(graph, exact, vals)
    _check_sums(graph, vals, None, None)  # the primal sums: no partials needed
    J = _exact_jacobian(inst)
    _check_values([v for row in J for v in row], limit)
    if any(_is_zero(v) for row in J for v in row):
        raise Rejected("a derivative is zero")
    return xs, inst


# (low, high, step) of B, D1 = D2 and, at hard, the tokens per sequence S: hypothetical layers of any width
LINEAR_DIMS = {
    "easy": ((2, 64, 1), (8, 512, 8), None),
    "medium": ((8, 2048, 8), (64, 8192, 64), None),
    "hard": ((1, 64, 1), (256, 16384, 128), (128, 8192, 128)),
}


def _sample_linear(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Easy and medium give B directly; hard gives B sequences of S tokens, so X has B·S rows (one more step)."""
    b_range, d_range, s_range = LINEAR_DIMS[difficulty]

    def draw(low: int, high: int, step: int) -> int:
        return step * rng.randint(-(-low // step), high // step)

    g = {"B": draw(*b_range), "D1": draw(*d_range), "D2": draw(*d_range)}
    if s_range is not None:
        g["S"] = draw(*s_range)
    if len({g["B"] * g.get("S", 1), g["D1"], g["D2"]}) < 3:
        raise Rejected("distinct dimensions, so a transposed shape is told apart")
    return g


def _tangent_seed(rng: Rng, n: int, difficulty: str) -> list[int]:
    """A unit vector on a random input; at hard a direction with at least two nonzero entries in −2..2, so the
    output tangent is a directional derivative J·ẋ that combines partial derivatives (one more step)."""
    if difficulty != "hard":
        i = rng.randint(0, n - 1)
        return [int(k == i) for k in range(n)]
    seed = [rng.randint(-2, 2) for _ in range(n)]
    if sum(v != 0 for v in seed) < 2:
        raise Rejected("a hard seed combines at least two inputs")
    return seed


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    try:
        drawn = _sample(rng, variant, difficulty)
    except Undefined:
        raise Rejected("undefined at the inputs") from None
    if variant == "linear_layer":
        return drawn
    g, inst = drawn
    # drawn last, so an instance's graph and values do not depend on how it is numbered
    g = _renumbered(g, inst.graph, rng.choice(NUMBERINGS))
    _remember(g, inst)  # solving, the mistakes and the paths read it next: the same graph, never parsed again
    return g


_CELL_ID = re.compile(r"(d|bar_)?v(m?)(\d+)(_\d+)?")


def renumbered(g: dict[str, Any], numbering: str) -> dict[str, Any]:
    """Givens written in Baydin's numbering, rewritten in `numbering` (the same graph, values and cells)."""
    return _renumbered(g, instance({k: v for k, v in g.items() if k != "numbering"}).graph, numbering)


def _renumbered(g: dict[str, Any], graph: Graph, numbering: str) -> dict[str, Any]:
    new = {**g, "numbering": numbering}
    with numbered(new):
        shift = _SHIFT.get()

        def cell(cid: str) -> str:
            m = _CELL_ID.fullmatch(cid)
            if not m:
                return cid
            head, minus, number, tail = m.groups()
            return (head or "") + vid((-1 if minus else 1) * int(number)) + (tail or "")

        new.update(graph=graph_lines(graph), outputs=[vname(k) for k in graph.outputs])
        if "shown" in g:
            new["shown"] = [cell(c) for c in g["shown"]]
    assert shift in (0, graph.n)
    return new


def _sample(rng: Rng, variant: str, difficulty: str) -> Any:
    """linear_layer: its givens; a graph variant: its givens and the instance (graph and outputs left for
    _renumbered to write, in the numbering drawn last)."""
    if variant == "linear_layer":
        return _sample_linear(rng, difficulty)
    if variant == "jacobian":
        n, m = rng.choice(JACOBIAN_SHAPES[difficulty])
        for _ in range(SHAPE_TRIES):  # keep the drawn shape, so every shape is asked about equally often
            try:
                xs, inst = _sample_graph(rng, difficulty, n, (m,))
            except (Rejected, Undefined):
                continue
            mode = rng.choice(("forward", "reverse"))
            J = _exact_jacobian(inst)
            if not _carried_misses(inst, "jacobian", (), mode, {f"J_{j}_{i}": J[j - 1][i - 1]
                                                                 for j in range(1, m + 1) for i in range(1, n + 1)}):
                return {"graph": None, "x": xs, "outputs": None, "mode": mode}, inst
        raise Rejected(f"no {n}-input, {m}-output graph in {SHAPE_TRIES} draws")
    table = variant if variant in ("forward", "reverse") else rng.choice(("forward", "reverse"))
    weighted = table == "reverse" and difficulty == "hard"  # hard: adjoints of a weighted sum of two outputs
    xs, inst = _sample_graph(rng, difficulty, rng.choice(LEVELS[difficulty][0]), (2,) if weighted else (1, 2))
    graph, limit = inst.graph, LEVELS[difficulty][4]
    rows = None
    if table == "forward":
        xdot = _tangent_seed(rng, graph.n, difficulty)
        if 2 * (graph.size + len(graph.outputs)) > MAX_PARTS:  # the cells, known before they are computed
            raise Rejected("more cells than a LaTeX exam's parts (a-z)")
        seeds = tuple(_SMALL[v] for v in xdot)
        dots = exact_tangents(inst, seeds)
        _check_sums(graph, inst.vals, exact_partials(inst), dots)
        _check_values(dots.values(), limit)
        extra: dict[str, Any] = {"xdot": xdot}
        values = cell_values(graph, inst.vals, dots=dots)
    else:
        if weighted:
            ybar = [rng.choice((-3, -2, -1, 1, 2, 3)) for _ in graph.outputs]
            extra = {"ybar": ybar}
            seeds = tuple(_SMALL[w] for w in ybar)
        else:
            j = rng.randint(1, len(graph.outputs))
            extra = {"output": j}
            seeds = unit(len(graph.outputs), j - 1)
        cells = sum(len(nd.args) for nd in graph.nodes) + graph.n
        if cells + (graph.size + len(graph.outputs) if variant == "fill" else 0) > MAX_PARTS:
            raise Rejected("more cells than a LaTeX exam's parts (a-z)")
        _, rows, bar = exact_adjoints(inst, seeds)
        if not any(r.accumulates for r in rows):
            raise Rejected("no accumulation in the adjoint trace")
        _check_adjoint_rows(rows)
        _check_values([r.value for r in rows], limit)
        values = cell_values(graph, inst.vals, rows=rows, bar=bar, primal=variant == "fill")
    if variant == "fill":
        hidden = giveaways(graph, rows)
        candidates = [c for c in values if not always_asked(c) and c not in hidden]
        picked = set(rng.shuffle(candidates)[: len(candidates) // 2])
        if not picked:
            raise Rejected("a partly filled table shows some cells and asks others")
        extra.update(table=table, shown=[c for c in candidates if c in picked])
        values = {c: v for c, v in values.items() if c not in picked}
    if _carried_misses(inst, table, seeds, "", values):
        raise Rejected("a student carrying 6 significant figures lands outside the tolerance")
    return {"graph": None, "x": xs, "outputs": None, **extra}, inst  # graph and outputs: written as numbered
