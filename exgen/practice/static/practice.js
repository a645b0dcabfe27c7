// exgen practice: draws a problem, builds an input per part by its kind, sends answers to the server's
// grader and shows each verdict. The page never holds the key: it holds the problem's (topic, variant,
// difficulty, seed) and asks the server. Student text is only ever set as textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let current = null; // {problem, parts}
let topicsInfo = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} :
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({error: `the server answered ${response.status}`}));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function renderMath(node) {
  if (window.renderMathInElement) {
    renderMathInElement(node, {
      delimiters: [{left: "$$", right: "$$", display: true}, {left: "\\[", right: "\\]", display: true},
                   {left: "$", right: "$", display: false}],
      throwOnError: false,
    });
  }
}

function selectedTopics() {
  return [...document.querySelectorAll("#topics input:checked")].map((box) => box.value);
}

function fillVariants() {
  const chosen = selectedTopics();
  const select = $("variant");
  select.replaceChildren(el("option", {value: "", text: "any"}));
  if (chosen.length !== 1) return;  // a variant belongs to one topic
  for (const v of topicsInfo.find((t) => t.name === chosen[0]).variants) select.append(el("option", {value: v, text: v}));
}

// ---- inputs by kind -------------------------------------------------------------------------------

function inputFor(part) {
  const box = el("div", {class: "input", "data-part": part.id, "data-kind": part.kind});
  if (part.kind === "matrix" || part.kind === "vector") {
    const [rows, cols] = part.kind === "matrix" ? part.shape : [1, part.shape[0]];
    const table = el("table", {class: "grid"});
    for (let r = 0; r < rows; r++) {
      const tr = el("tr");
      for (let c = 0; c < cols; c++) {
        tr.append(el("td", {}, el("input", {class: "cell", "aria-label": `${part.id} row ${r + 1} column ${c + 1}`,
                                             "data-row": r, "data-col": c, inputmode: "decimal"})));
      }
      table.append(tr);
    }
    box.append(el("div", {class: "grid-box"}, table));
  } else if (part.kind === "choice") {
    const choices = el("div", {class: "choices"});
    for (const choice of part.choices) {
      const button = el("button", {type: "button", "data-choice": choice, text: choice});
      button.addEventListener("click", () => {
        choices.querySelectorAll("button").forEach((b) => b.classList.remove("chosen"));
        button.classList.add("chosen");
      });
      choices.append(button);
    }
    box.append(choices);
  } else {
    const hint = part.kind === "expression" ? `an expression in ${part.symbols.join(", ")}` :
      part.kind === "integer" ? "an integer" :
      part.unit ? `a number, in ${part.unit} unless you write another unit` : "a number";
    box.append(el("input", {class: "entry", name: part.id, "aria-label": part.id,
                            placeholder: part.kind === "expression" ? "e.g. 24*N_layer*D^2" :
                                         part.kind === "integer" ? "e.g. 4096" : "e.g. 1.23e4"}));
    box.append(el("span", {class: "hint", text: part.kind === "integer" ? ` ${hint}` : ` ${hint}, ${part.precision}`}));
  }
  return box;
}

function answerOf(box) {
  const kind = box.dataset.kind;
  if (kind === "matrix" || kind === "vector") {
    // sent cell by cell, so the server can name the cell that is empty or holds more than one number
    const rows = [];
    box.querySelectorAll("input.cell").forEach((cell) => {
      (rows[cell.dataset.row] ||= [])[cell.dataset.col] = cell.value;
    });
    return rows;
  }
  if (kind === "choice") {
    const chosen = box.querySelector("button.chosen");
    return chosen ? chosen.dataset.choice : "";
  }
  return box.querySelector("input").value;
}

// ---- flow -------------------------------------------------------------------------------------------

async function newProblem(event) {
  if (event) event.preventDefault();
  const topics = selectedTopics();
  if (!topics.length) return status("Pick at least one topic.", true);
  status("Drawing a problem…");
  try {
    const data = await api("/api/problem", {topics, variant: $("variant").value || null,
                                             difficulty: $("difficulty").value,
                                             mode: $("weakest").checked ? "weakest" : "pick"});
    current = data;
    const p = data.problem;
    $("meta").replaceChildren(`${p.topic} · ${p.variant} · ${p.difficulty} · seed ${p.seed} — regenerate with `,
                              el("code", {text: data.command}));
    $("question").innerHTML = data.question; // rendered and escaped by exgen's HTML driver on the server
    renderMath($("question"));
    $("inputs").replaceChildren(...data.parts.map((part) => {
      const li = el("li", {"data-part": part.id});
      li.append(el("strong", {text: part.id}), " — ", el("span", {class: "label", text: part.label}));
      li.append(inputFor(part), el("output", {class: "verdict", hidden: ""}));
      return li;
    }));
    renderMath($("inputs"));
    $("solution").hidden = true;
    $("problem").hidden = false;
    status("");
  } catch (e) {
    status(e.message, true);
  }
}

async function check(event) {
  event.preventDefault();
  if (!current) return;
  const answers = {};
  document.querySelectorAll("#inputs div.input").forEach((box) => { answers[box.dataset.part] = answerOf(box); });
  try {
    const data = await api("/api/check", {problem: current.problem, answers});
    document.querySelectorAll("#inputs li").forEach((li) => {
      const out = li.querySelector("output.verdict");
      const r = data.results[li.dataset.part];
      if (!r) { out.hidden = true; return; }
      out.className = `verdict ${r.verdict}`;
      out.textContent = `${r.verdict} (${r.points} / 1). ${r.message}\ntolerance: ${r.tolerance}`;
      out.hidden = false;
    });
    status(data.recorded ? "" : "Checked, but not counted in your progress: the solution was shown.");
    loadProgress();
  } catch (e) {
    status(e.message, true);
  }
}

async function reveal() {
  if (!current) return;
  try {
    const data = await api("/api/solution", {problem: current.problem});
    $("solution-body").innerHTML = data.solution; // the server's HTML driver escapes every text; it ends with the answers
    renderMath($("solution-body"));
    $("solution").hidden = false;
  } catch (e) {
    status(e.message, true);
  }
}

async function loadProgress() {
  const data = await api("/api/progress");
  const rows = data.progress.filter((r) => r.attempts > 0).map((r) => el("tr", {},
    el("td", {text: r.topic}), el("td", {text: r.variant}), el("td", {text: r.attempts}),
    el("td", {text: `${r.correct} / ${r.parts}`}), el("td", {text: r.streak})));
  $("progress").querySelector("tbody").replaceChildren(...rows);
}

async function init() {
  const data = await api("/api/topics");
  topicsInfo = data.topics;
  const preselected = new Set(document.body.dataset.topics.split(","));
  for (const t of data.topics) {
    const box = el("input", {type: "checkbox", value: t.name, id: `topic-${t.name}`});
    box.checked = preselected.has(t.name);
    box.addEventListener("change", fillVariants);
    $("topics").append(el("label", {for: `topic-${t.name}`}, box, ` ${t.name}`));
  }
  for (const d of data.difficulties) $("difficulty").append(el("option", {value: d, text: d}));
  $("difficulty").value = document.body.dataset.difficulty;
  fillVariants();
  $("choose").addEventListener("submit", newProblem);
  $("answers").addEventListener("submit", check);
  $("reveal").addEventListener("click", reveal);
  $("next").addEventListener("click", () => newProblem());
  $("reset").addEventListener("click", async () => {
    if (!window.confirm("Forget your progress in every topic? This cannot be undone.")) return;
    try { await api("/api/reset", {}); loadProgress(); } catch (e) { status(e.message, true); }
  });
  await loadProgress();
  await newProblem();
}

window.addEventListener("DOMContentLoaded", () => init().catch((e) => status(e.message, true)));
