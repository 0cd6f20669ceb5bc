// Pivot: one indicator (defanged accepted), its neighbours and the actors it leads to
// (GET /v1/indicators/{value}), as a graph and as tables.

import { api } from "../api.js";
import { pivotElements, renderGraph } from "../graph.js";
import { actorLink, h, setStatus, table } from "../dom.js";

export function showPivot(main, value) {
  const q = h("input", { id: "pivot-q", name: "pivot-q", type: "search", placeholder: "evil[.]example, 203.0.113.7, a hash…", value: value || null });
  const out = h("section", { id: "pivot-result", "aria-label": "Pivot result" });
  const form = h(
    "form",
    { id: "pivot-form", role: "search" },
    h("h1", {}, "Pivot on an indicator"),
    h("div", { class: "row" }, h("label", { for: "pivot-q" }, "Indicator"), q, h("button", { type: "submit" }, "Pivot")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = q.value.trim();
    if (!v) return;
    const hash = `#/pivot/${encodeURIComponent(v)}`;
    if (window.location.hash === hash) load(out, v);
    else window.location.hash = hash;
  });
  main.append(form, out);
  if (value) load(out, value);
}

async function load(out, value) {
  setStatus("Pivoting…");
  let p;
  try {
    p = await api(`/v1/indicators/${encodeURIComponent(value)}`);
  } catch (err) {
    out.replaceChildren();
    setStatus(`Pivot on ${value}: ${err.message}`, true);
    return;
  }
  const graph = h("div", { id: "pivot-graph", class: "graph", role: "img", "aria-label": "Neighbourhood graph; the same neighbours are listed in the tables beside it" });
  out.replaceChildren(
    h("h2", {}, `${p.kind} ${p.value}`),
    h(
      "div",
      { class: "split" },
      graph,
      h(
        "div",
        { class: "tablewrap" },
        table("Actors reachable from the indicator, closest first", [
          { title: "Actor", cell: (a) => actorLink(a.id, a.name) },
          { title: "Country", cell: (a) => a.country || "" },
          { title: "Hops", cell: (a) => String(a.shortest), num: true },
          { title: "Paths", cell: (a) => String(a.paths), num: true },
        ], p.actors),
        table("Neighbours", [
          { title: "Relationship", cell: (n) => (n.outgoing ? `${n.relationship} →` : `← ${n.relationship}`) },
          { title: "Type", cell: (n) => n.label || "" },
          { title: "Name", cell: (n) => n.name || n.id },
        ], p.neighbours),
      ),
    ),
  );
  setStatus("");
  await renderGraph("pivot", graph, pivotElements(p));
}
