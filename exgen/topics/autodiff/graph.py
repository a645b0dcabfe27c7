"""The computational graph: its nodes, the small grammar a user's trace is read with (never evaluated), its
canonical text, and how nodes are named and numbered (Baydin et al. 2018, Section 3, or inputs first)."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from exgen.topics.base import InvalidGivens

MAX_LINES = 40
MAX_LINE = 200  # characters per line of a trace (issue 10's bounds: givens.py)
# The two common numberings of a trace (given `numbering`): Baydin et al. (2018) number the inputs v_{1-n}..v_0
# and the intermediates v_1, v_2, ...; the other (Wikipedia's "Automatic differentiation" w_1 = x_1, ...) numbers
# the inputs v_1..v_n and the intermediates v_{n+1}, ... after them. Internally every node keeps Baydin's index;
# what a student reads and types (node names, cell ids) is shifted by n under the second numbering.
NUMBERINGS = ("baydin", "inputs-first")
_SHIFT: ContextVar[int] = ContextVar("autodiff_numbering_shift", default=0)


def numbering_shift(g: dict[str, Any]) -> int:
    """How far a displayed index is from Baydin's: n under inputs-first numbering, else 0."""
    if g.get("numbering", "baydin") not in NUMBERINGS:
        raise InvalidGivens(f"numbering: one of {', '.join(NUMBERINGS)}")
    x = g.get("x")
    return len(x) if g.get("numbering") == "inputs-first" and isinstance(x, (list, tuple)) else 0


class numbered:
    """Names and ids inside this block follow the numbering the givens choose (`with numbered(g): ...`)."""

    __slots__ = ("shift", "token")

    def __init__(self, g: dict[str, Any]) -> None:
        self.shift = numbering_shift(g)

    def __enter__(self) -> None:
        self.token = _SHIFT.set(self.shift)

    def __exit__(self, *exc: Any) -> None:
        _SHIFT.reset(self.token)


def _in_numbering(fn: Callable) -> Callable:
    """A (variant, givens, ...) function run in the givens' numbering."""
    def run(variant: str, g: dict[str, Any], *rest: Any) -> Any:
        with numbered(g):
            return fn(variant, g, *rest)
    run.__name__ = getattr(fn, "__name__", "run")
    return run


class Node(NamedTuple):
    index: int              # this node is v_index
    op: str
    args: tuple[int, ...]   # operand indices (inputs are 1-n .. 0)


@dataclass(frozen=True)
class Graph:
    n: int                       # inputs x_1..x_n are v_{1-n}..v_0
    nodes: tuple[Node, ...]      # v_1..v_K, in order
    outputs: tuple[int, ...]     # y_j = v_{outputs[j-1]}

    @property
    def size(self) -> int:
        return len(self.nodes)

    def node(self, k: int) -> Node:
        return self.nodes[k - 1]

    def consumers(self, a: int) -> list[int]:
        return [nd.index for nd in self.nodes if a in nd.args]

    def ancestors(self, k: int) -> set[int]:
        """Every node (inputs included) that v_k depends on, and k itself."""
        seen, todo = {k}, [k]
        while todo:
            i = todo.pop()
            if i >= 1:
                for a in self.node(i).args:
                    if a not in seen:
                        seen.add(a)
                        todo.append(a)
        return seen


_FUNCS = {"exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos", "sq": "sq", "square": "sq"}
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
_TOKEN = re.compile(r"""\s*(?:
    (?P<name>[vx]\s*_?\s*(?:\{\s*-?\s*\d{1,3}\s*\}|-?\s*\d{1,3}))
  | (?P<func>square|exp|log|ln|sin|cos|sq)(?![A-Za-z0-9])
  | (?P<sym>[-+*/^=()])
  | (?P<num>\d+)
)""", re.X)
GRAMMAR_HELP = ("one elementary operation per line, 'vK = a + b' (also -, *, /), 'vK = a^2', 'vK = exp(a)', "
                "'log(a)' (natural log), 'sin(a)', 'cos(a)'; operands are earlier nodes: inputs v-1, v0 (or x1, x2), "
                "intermediates v1, v2, ... numbered in order (with numbering inputs-first: inputs v1..vn, "
                "intermediates v(n+1), v(n+2), ...)")


def _tokens(text: str) -> list[tuple[str, str]]:
    text = (text.replace("\u2212", "-").replace("\u00d7", "*").replace("\u00b7", "*").replace("\u00b2", "^2")
            .replace(r"\times", "*").replace(r"\cdot", "*").replace(r"\ln", "ln"))
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidGivens(f"cannot read {text[pos:].strip()[:20]!r} in {text.strip()!r}: {GRAMMAR_HELP}")
        kind = m.lastgroup
        out.append((kind, re.sub(r"\s", "", m.group(kind))))
        pos = m.end()
    return out


def _name_index(token: str, n: int) -> int:
    """'v-1', 'v_{-1}', 'x1' -> node index (x_i is v_{i-n}); under inputs-first numbering v_i is shifted by n."""
    number = int(token[1:].strip("_").strip("{}"))
    if token[0] == "x":
        if not 1 <= number <= n:
            raise InvalidGivens(f"{token}: there are {n} inputs x1..x{n}")
        return number - n
    return number - _SHIFT.get()


def vname(i: int) -> str:
    """The plain-text name of node i as the question numbers it: v-1, v0, v3 (or v1, v2, v5 inputs-first)."""
    return f"v{i + _SHIFT.get()}"


def parse_line(text: str, n: int, expected: int) -> Node:
    """One line of the trace: 'v3 = v1 * v2' -> Node(3, 'mul', (1, 2))."""
    toks = _tokens(text)
    if len(toks) < 3 or toks[0][0] != "name" or toks[1] != ("sym", "="):
        raise InvalidGivens(f"line {text.strip()!r}: expected '{vname(expected)} = ...': {GRAMMAR_HELP}")
    left = _name_index(toks[0][1], n)
    if toks[0][1][0] != "v" or left != expected:
        raise InvalidGivens(f"line {text.strip()!r}: intermediates are numbered in order; expected {vname(expected)} "
                            "here")
    rhs = toks[2:]
    kinds = [k for k, _ in rhs]
    names = [_name_index(t, n) for k, t in rhs if k == "name"]
    if kinds == ["name", "sym", "name"] and rhs[1][1] in _BINARY:
        op = _BINARY[rhs[1][1]]
    elif kinds in (["func", "sym", "name", "sym"], ["func", "name"]) and (
            kinds == ["func", "name"] or (rhs[1][1], rhs[3][1]) == ("(", ")")):
        op = _FUNCS[rhs[0][1]]
    elif (kinds == ["name", "sym", "num"] and rhs[1][1] == "^" and rhs[2][1] == "2") or (
            kinds == ["sym", "name", "sym", "sym", "num"] and [t for _, t in rhs] == ["(", rhs[1][1], ")", "^", "2"]):
        op = "sq"
    else:
        raise InvalidGivens(f"line {text.strip()!r}: {GRAMMAR_HELP}")
    for a in names:
        if not 1 - n <= a < expected:
            raise InvalidGivens(f"line {text.strip()!r}: {vname(a)} is not an input or an earlier node")
    return Node(expected, op, tuple(names))


def _lines(value: Any, what: str) -> list[str]:
    """A list of strings, or one string with entries separated by newlines or ';' (or ',' for names)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = re.split(r"[;\n]" if what == "graph" else r"[;\n,\s]+", value)
    elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
        parts = [str(v) for v in value]
    else:
        raise InvalidGivens(f"{what}: expected a list of strings or one string")
    return [p.strip() for p in parts if p.strip()]


def parse_graph(lines: Any, n: int, outputs: Any = "") -> Graph:
    if not 1 <= n <= 6:
        raise InvalidGivens("x: between 1 and 6 inputs")
    texts = _lines(lines, "graph")
    if not texts:
        raise InvalidGivens(f"graph: no nodes; {GRAMMAR_HELP}")
    if len(texts) > MAX_LINES or any(len(t) > MAX_LINE for t in texts):
        raise InvalidGivens(f"graph: at most {MAX_LINES} lines of at most {MAX_LINE} characters")
    nodes = tuple(parse_line(t, n, k) for k, t in enumerate(texts, 1))
    used = {a for nd in nodes for a in nd.args}
    sinks = [nd.index for nd in nodes if nd.index not in used]
    names = _lines(outputs, "outputs")
    if names:
        outs = []
        for name in names:
            toks = _tokens(name)
            if len(toks) != 1 or toks[0][0] != "name":
                raise InvalidGivens(f"outputs: {name!r} is not a node name such as v3")
            outs.append(_name_index(toks[0][1], n))
    else:
        outs = sinks
    if len(set(outs)) != len(outs) or any(not 1 <= k <= len(nodes) for k in outs):
        raise InvalidGivens(f"outputs: distinct intermediate nodes ({vname(1)}, {vname(2)}, ...), not inputs")
    dead = [k for k in sinks if k not in outs]
    if dead:
        raise InvalidGivens(f"{vname(dead[0])} is used by no node and is not an output")
    unused = [i for i in range(1 - n, 1) if i not in used]
    if unused:
        raise InvalidGivens(f"input {vname(unused[0])} (x{unused[0] + n}) is used by no node")
    return Graph(n, nodes, tuple(outs))


def graph_lines(graph: Graph) -> list[str]:
    """The canonical text of a graph, as the sampler writes it into the givens."""
    shift = _SHIFT.get()
    out = []
    for k, op, args in graph.nodes:
        a = f"v{args[0] + shift}"  # vname
        sign = _SIGNS.get(op)
        rhs = f"{a}{sign}v{args[1] + shift}" if sign else f"{a}^2" if op == "sq" else f"{op}({a})"
        out.append(f"v{k + shift} = {rhs}")
    return out


_SIGNS = {"add": " + ", "sub": " - ", "mul": " * ", "div": " / "}


def vid(i: int) -> str:
    """The id fragment of v_i as the question numbers it: v3, v0, vm1."""
    i += _SHIFT.get()
    return f"v{i}" if i >= 0 else f"vm{-i}"


def vtex(i: int, mark: str = "") -> str:
    """v_{i}, \\dot v_{i}, \\bar v_{i}, as the question numbers them."""
    i += _SHIFT.get()
    return (rf"\{mark} v_{{{i}}}" if mark else f"v_{{{i}}}")
