"""Automatic differentiation reproduced with torch's own AD, independently of the solver (float64).

- Graph: read by a regular-expression reader of its own (not the solver's parser), into torch ops. Nodes keep
  the numbers the givens write (inputs x_i are v_{i-n} in Baydin's numbering, v_i with numbering inputs-first),
  so every id comes straight from the text.
- Forward tables: torch.autograd.forward_ad dual numbers; every intermediate's primal and tangent is unpacked.
- Reverse tables: backward() from the chosen output (or from L = Σ ȳ_j y_j when seeds ybar are given) with
  retain_grad() on every intermediate, so each final adjoint is torch's .grad. The per-contribution rows (v̄_a after each node k sends v̄_k · ∂v_k/∂v_a) are
  summed from torch's local gradients: torch.autograd.grad of node k, recomputed on fresh leaves, with respect
  to that operand, times torch's .grad of v_k. Rows follow the stated order (highest node first, operands in
  order); the first contribution assigns, unless the variable is an output (it starts at its seed).
- Jacobian: one torch.func.jvp per input (forward) or one torch.func.vjp per output (reverse), counted, and
  checked against torch.func.jacfwd / jacrev.
- Linear layer: meta tensors (no memory), shapes from autograd, FLOPs from torch.utils.flop_counter.
"""

from __future__ import annotations

import math

import re
from typing import Any

import torch
import torch.autograd.forward_ad as fwAD
from torch.utils.flop_counter import FlopCounterMode

F64 = torch.float64

_TORCH_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "sq": torch.square,
    "square": torch.square,
    "exp": torch.exp,
    "log": torch.log,
    "ln": torch.log,
    "sin": torch.sin,
    "cos": torch.cos,
}
_NAME = r"([vx]-?\d+)"
_BIN = re.compile(rf"^v(-?\d+)={_NAME}([-+*/]){_NAME}$")
_FUN = re.compile(rf"^v(-?\d+)=(exp|log|ln|sin|cos|square|sq)\(?{_NAME}\)?$")
_POW = re.compile(rf"^v(-?\d+)=\(?{_NAME}\)?\^2$")


def _normal(text: str) -> str:
    for a, b in (("\u2212", "-"), ("\u00d7", "*"), ("\u00b7", "*"), ("\u00b2", "^2"), ("\\times", "*"),
                 ("\\cdot", "*"), ("\\ln", "ln")):
        text = text.replace(a, b)
    return re.sub(r"[\s_{}]", "", text)


def _index(name: str, n: int) -> int:
    """A node's number as written; x_i is the i-th input, which is v_{i-n} (n = the offset) or v_i (offset 0)."""
    return int(name[1:]) - n if name[0] == "x" else int(name[1:])


def _offset(g: dict[str, Any], n: int) -> int:
    """Input x_i is node i - offset: Baydin's numbering puts the inputs at 1-n..0, inputs-first at 1..n."""
    return 0 if g.get("numbering", "baydin") == "inputs-first" else n


def read_graph(lines: Any, n: int) -> list[tuple[int, str, list[int]]]:
    if isinstance(lines, str):
        lines = re.split(r"[;\n]", lines)
    nodes = []
    for line in (str(l) for l in lines):
        text = _normal(line)
        if not text:
            continue
        if m := _BIN.match(text):
            k, a, op, b = m.groups()
            nodes.append((int(k), op, [_index(a, n), _index(b, n)]))
        elif m := _FUN.match(text):
            k, op, a = m.groups()
            nodes.append((int(k), op, [_index(a, n)]))
        elif m := _POW.match(text):
            k, a = m.groups()
            nodes.append((int(k), "sq", [_index(a, n)]))
        else:
            raise ValueError(f"verifier cannot read {line!r}")
    return nodes


def read_outputs(g: dict[str, Any], nodes, n: int) -> list[int]:
    raw = g.get("outputs") or []
    if isinstance(raw, str):
        raw = [t for t in re.split(r"[,;\s]+", raw) if t]
    if raw:
        return [_index(_normal(str(t)), n) for t in raw]
    used = {a for _, _, args in nodes for a in args}
    return [k for k, _, _ in nodes if k not in used]


def _graph(g: dict[str, Any]):
    """x, the input offset (x_i is node i - offset), the nodes and the outputs."""
    x = [float(v) for v in g["x"]]
    off = _offset(g, len(x))
    nodes = read_graph(g["graph"], off)
    return x, off, nodes, read_outputs(g, nodes, off)


def _vid(i: int) -> str:
    return f"v{i}" if i >= 0 else f"vm{-i}"


def _run(nodes, inputs: dict[int, torch.Tensor], retain: bool = False) -> dict[int, torch.Tensor]:
    v = dict(inputs)
    for k, op, args in nodes:
        v[k] = _TORCH_OPS[op](*[v[a] for a in args])
        if retain:
            v[k].retain_grad()
    return v


def _seed(g: dict[str, Any], n: int) -> list[float]:
    xdot = g.get("xdot") or []
    return [float(v) for v in xdot] if xdot else [1.0] + [0.0] * (n - 1)


def forward_cells(g: dict[str, Any], device: torch.device) -> dict[str, float]:
    x, off, nodes, outputs = _graph(g)
    n = len(x)
    xdot = _seed(g, n)
    out: dict[str, float] = {}
    with fwAD.dual_level():
        inputs = {i - off: fwAD.make_dual(torch.tensor(x[i - 1], dtype=F64, device=device),
                                        torch.tensor(xdot[i - 1], dtype=F64, device=device))
                  for i in range(1, n + 1)}
        v = _run(nodes, inputs)
        unpacked = {k: fwAD.unpack_dual(t) for k, t in v.items()}
    for k, _, _ in nodes:
        primal, tangent = unpacked[k]
        out[_vid(k)] = primal.item()
        out[f"d{_vid(k)}"] = 0.0 if tangent is None else tangent.item()
    for j, k in enumerate(outputs, 1):
        out[f"y{j}"], out[f"dy{j}"] = out[_vid(k)], out[f"d{_vid(k)}"]
    return out


def _local_gradient(op: str, values: list[float], slot: int, device: torch.device) -> float:
    """∂(op)/∂(operand slot) at these values: torch.autograd.grad on fresh leaves."""
    leaves = [torch.tensor(val, dtype=F64, device=device, requires_grad=(i == slot)) for i, val in enumerate(values)]
    (grad,) = torch.autograd.grad(_TORCH_OPS[op](*leaves), leaves[slot])
    return grad.item()


def reverse_cells(g: dict[str, Any], device: torch.device) -> dict[str, float]:
    x, off, nodes, outputs = _graph(g)
    n = len(x)
    j = int(g.get("output", 1))
    weights = [float(w) for w in g.get("ybar") or []] or [float(i == j) for i in range(1, len(outputs) + 1)]
    leaves = {i - off: torch.tensor(x[i - 1], dtype=F64, device=device, requires_grad=True) for i in range(1, n + 1)}
    v = _run(nodes, leaves, retain=True)
    sum(w * v[k] for w, k in zip(weights, outputs)).backward()  # L = Σ ȳ_j y_j
    grad = {k: (0.0 if t.grad is None else t.grad.item()) for k, t in v.items()}
    out: dict[str, float] = {_vid(k): v[k].item() for k, _, _ in nodes}
    for i, k in enumerate(outputs, 1):
        out[f"y{i}"] = v[k].item()
    # the contribution rows, in the stated order
    running = dict(zip(outputs, weights))
    rows: list[tuple[int, float]] = []
    for k, op, args in sorted(nodes, reverse=True):
        values = [v[a].item() for a in args]
        for slot, a in enumerate(args):
            contribution = grad[k] * _local_gradient(op, values, slot, device)
            running[a] = running.get(a, 0.0) + contribution
            rows.append((a, running[a]))
    count: dict[int, int] = {}
    for a, _ in rows:
        count[a] = count.get(a, 0) + 1
    seen: dict[int, int] = {}
    for a, value in rows:
        seen[a] = seen.get(a, 0) + 1
        out[f"bar_{_vid(a)}" + (f"_{seen[a]}" if count[a] > 1 else "")] = value
    for i in range(1, n + 1):
        out[f"bar_x{i}"] = grad[i - off]
    return out


def jacobian(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x, off, nodes, outputs = _graph(g)
    n = len(x)

    def f(xs: torch.Tensor) -> torch.Tensor:
        v = _run(nodes, {i - off: xs[i - 1] for i in range(1, n + 1)})
        return torch.stack([v[k] for k in outputs])

    x0 = torch.tensor(x, dtype=F64, device=device)
    m = len(outputs)
    eye_n, eye_m = torch.eye(n, dtype=F64, device=device), torch.eye(m, dtype=F64, device=device)
    forward_passes = [torch.func.jvp(f, (x0,), (eye_n[i],))[1] for i in range(n)]      # columns
    _, vjp = torch.func.vjp(f, x0)
    reverse_passes = [vjp(eye_m[j])[0] for j in range(m)]                                  # rows
    J = torch.stack(forward_passes, dim=1) if g.get("mode") == "forward" else torch.stack(reverse_passes)
    reference = torch.func.jacfwd(f)(x0) if g.get("mode") == "forward" else torch.func.jacrev(f)(x0)
    if not torch.allclose(J, reference, rtol=1e-12, atol=1e-12):
        raise AssertionError("pass-by-pass Jacobian disagrees with torch.func")
    out: dict[str, Any] = {f"J_{j + 1}_{i + 1}": J[j, i].item() for j in range(m) for i in range(n)}
    nf, nr = len(forward_passes), len(reverse_passes)
    out.update(passes_forward=nf, passes_reverse=nr,
               cheaper="forward" if nf < nr else "reverse" if nr < nf else "either")
    return out


def linear_layer(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """X is a (B, S, D1) batch of sequences (S = 1 without sequences); a gradient's shape is read as
    (rows, columns) with the leading dimensions flattened into rows, as the question states."""
    B, S, D1, D2 = int(g["B"]), int(g.get("S", 1)), int(g["D1"]), int(g["D2"])
    X = torch.empty(B, S, D1, device="meta", requires_grad=True)
    W = torch.empty(D1, D2, device="meta", requires_grad=True)
    Y = X @ W
    dY = torch.empty(B, S, D2, device="meta")
    counts = {}
    for name, wrt in (("dW", W), ("dX", X)):
        with FlopCounterMode(display=False) as counter:
            (grad,) = torch.autograd.grad(Y, wrt, dY, retain_graph=True)
        counts[name] = ([math.prod(grad.shape[:-1]), grad.shape[-1]], counter.get_total_flops())
    with FlopCounterMode(display=False) as counter:
        Y.backward(dY)
    return {"dW_shape": counts["dW"][0], "dX_shape": counts["dX"][0], "flops_dW": float(counts["dW"][1]),
            "flops_dX": float(counts["dX"][1]), "flops_backward": float(counter.get_total_flops())}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    if variant == "linear_layer":
        return linear_layer(givens, device)
    if variant == "jacobian":
        return jacobian(givens, device)
    table = givens.get("table", variant)
    return forward_cells(givens, device) if table == "forward" else reverse_cells(givens, device)


# ---- the pre-filled cells of a `fill` table -----------------------------------------------------------------
# A fill question shows some cells' values (6 significant figures) in the table it prints; they are part of the
# key as much as the asked cells, so each is read back from the key's table and held to torch's value.

_LABEL = re.compile(r"(\\dot |\\bar )?([vxy])_\{(-?\d+)\} = (.*)")
_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?")


def _table_cells(math: str) -> dict[str, str]:
    """{cell id: the text in its value column} of a printed table, ids as the question names cells: v3, dv3,
    dy1, bar_x1, bar_vm1 (bar_v5_1, bar_v5_2 for an adjoint that accumulates; a seed row v̄_k = ȳ_j is none)."""
    pairs = []
    for line in re.split(r"\\\\", math):
        columns = [c.strip() for c in line.split("&")]
        pairs += [(columns[i], columns[i + 1]) for i in range(0, len(columns) - 1, 2)]
    rows = []
    for label, value in pairs:
        if (m := _LABEL.fullmatch(label)) and not re.fullmatch(r"\\bar y_\{\d+\}", m.group(4)):
            kind, letter, i = m.group(1) or "", m.group(2), int(m.group(3))
            rows.append(({"": "", "\\dot ": "d", "\\bar ": "bar_"}[kind] + letter + _vid(i)[1:], value))
    total = {name: sum(n == name for n, _ in rows) for name, _ in rows}
    seen: dict[str, int] = {}
    cells = {}
    for name, value in rows:
        seen[name] = seen.get(name, 0) + 1
        cells[name + (f"_{seen[name]}" if name.startswith("bar_") and total[name] > 1 else "")] = value
    return cells


def _shown_value(text: str) -> float | None:
    m = _NUMBER.fullmatch(text)
    return None if m is None else float(m.group(1)) * 10.0 ** int(m.group(2) or 0)


def shown_cells(problem, values: dict[str, Any]) -> list[tuple[str, float | None, bool]]:
    """(cell, the value the key's table shows, agrees): shown to 6 significant figures, so within half a unit of
    the 6th figure of torch's value."""
    ids = problem.givens.get("shown") or []
    if problem.variant != "fill" or not ids:
        return []
    tables = [s.math for s in problem.solution.shown if "\\begin{array}" in s.math]
    cells = _table_cells(tables[0]) if tables else {}
    out = []
    for cell in ids:
        shown, got = _shown_value(cells.get(cell, "")), values.get(cell)
        ok = shown is not None and got is not None and math.isfinite(got) and abs(shown - got) <= (
            0.5 * 10.0 ** (math.floor(math.log10(abs(got))) - 5) * (1 + 1e-9) if got else 1e-9)
        out.append((cell, shown, ok))
    return out
