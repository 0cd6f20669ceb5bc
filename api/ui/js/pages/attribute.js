// Attribute: paste activity, see ranked actors, the country roll-up, the unknown score and the
// evidence as a graph with a table beside it.

import { activityBody } from "../activity.js";
import { api } from "../api.js";
import { evidenceElements, renderGraph } from "../graph.js";
import { decidePanel } from "../decide.js";
import { actorLink, downloadCsv, h, pct, setStatus, table } from "../dom.js";

const EXAMPLE = "# one indicator per line; defanged values are fine\nevil[.]example\nhxxp://203.0.113[.]7/payload";

export function showAttribute(main) {
  const text = h("textarea", { id: "activity", name: "activity", placeholder: EXAMPLE, "aria-describedby": "activity-help" });
  const name = h("input", { id: "activity-name", name: "activity-name", type: "text", placeholder: "optional" });
  const topK = h("input", { id: "top-k", name: "top-k", type: "number", min: 1, max: 50, value: 5 });
  const persist = h("input", { id: "persist", name: "persist", type: "checkbox" });
  const results = h("section", { id: "results", "aria-label": "Attribution result" });
  const form = h(
    "form",
    { id: "attribute-form" },
    h("h1", {}, "Attribute activity"),
    h("label", { for: "activity" }, "Activity"),
    h(
      "p",
      { id: "activity-help", class: "muted" },
      "A STIX 2.1 bundle, a MISP event (with or without its \"Event\" wrapper), the simple JSON form ({\"indicators\": [...], \"malware\": [...]}), or indicators one per line.",
    ),
    text,
    h(
      "div",
      { class: "row" },
      h("label", { for: "activity-file" }, "or load a file"),
      h("input", {
        id: "activity-file",
        type: "file",
        accept: ".json,.txt,.csv,application/json,text/plain",
        onchange: async (event) => {
          const file = event.target.files[0];
          if (file) text.value = await file.text();
        },
      }),
    ),
    h(
      "div",
      { class: "row" },
      h("label", { for: "activity-name" }, "Name"),
      name,
      h("label", { for: "top-k" }, "Actors to rank"),
      topK,
      h("label", { for: "persist" }, persist, " Store as a campaign, to decide on it"),
      h("button", { type: "submit", id: "attribute-submit" }, "Attribute"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = activityBody(text.value, name.value.trim());
    } catch (err) {
      setStatus(err.message, true);
      return;
    }
    body.top_k = Number(topK.value) || 5;
    if (persist.checked) body.persist = true;
    setStatus("Attributing…");
    try {
      const result = await api("/v1/attributions", { method: "POST", body });
      await showResult(results, result);
      const campaign = result.persisted?.campaign_id;
      if (campaign) results.append(decidePanel(campaign, result.candidates || []));
      setStatus(`Attributed with model ${result.model.version}${campaign ? `, stored as ${campaign}` : ""}.`);
    } catch (err) {
      results.replaceChildren();
      setStatus(
        err.status === 403
          ? `Attribution refused: this key may only read (it needs the analyst role to attribute or decide). ${err.detail}`
          : `Attribution failed: ${err.message}`,
        true,
      );
    }
  });
  main.append(form, results);
}

export async function showResult(results, result) {
  const m = result.model;
  const graph = h("div", { id: "evidence-graph", class: "graph", role: "img", "aria-label": "Evidence graph; the same evidence is listed in the table beside it" });
  const rows = (result.evidence || []).map((ev) => ({ ...ev, actor: nameOf(result, ev.actor_id) }));
  const parts = [
    h("h2", {}, "Ranked actors"),
    h(
      "p",
      { id: "unknown-score" },
      `Unknown actor: ${pct(result.unknown)}. Matched ${m.matched ?? "?"} values, ${m.unmatched ?? "?"} unmatched, ${m.via_enrichment ?? 0} through enrichment.`,
    ),
    tableWithId("candidates", result.candidates || []),
    h("h2", {}, "Countries"),
    table("Probability per origin country", [
      { title: "Country", cell: (c) => c.country },
      { title: "Score", cell: (c) => scoreCell(c.score), num: true },
    ], result.countries || []),
    result.skipped?.length
      ? h("p", { class: "muted" }, `Skipped: ${result.skipped.map((s) => `${s.value} (${s.reason})`).join("; ")}`)
      : null,
    h("h2", {}, "Evidence"),
    h(
      "p",
      { class: "legend muted" },
      h("span", {}, "Black: the activity. Grey: shared entities. Blue: candidate actors (size = score)."),
      h("span", {}, "Dashed yellow: a known hub (CDN, commodity tool), weak evidence."),
    ),
    h(
      "div",
      { class: "split" },
      graph,
      h(
        "div",
        {},
        h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => exportEvidence(rows) }, "Export evidence (CSV)")),
        h(
          "div",
          { class: "tablewrap" },
          table("Evidence paths, strongest first per actor", [
            { title: "Actor", cell: (e) => actorLink(e.actor_id, e.actor) },
            { title: "Kind", cell: (e) => e.kind.replaceAll("_", " ") },
            { title: "Entity", cell: (e) => `${e.entity.name || e.entity.id} (${e.entity.label || "?"})` },
            { title: "Input", cell: (e) => e.input || "" },
            { title: "Weight", cell: (e) => e.weight.toFixed(2), num: true },
            { title: "Actors sharing", cell: (e) => String(e.actors_sharing), num: true },
            { title: "Hub", cell: (e) => e.hub || "" },
          ], rows),
        ),
      ),
    ),
  ];
  results.replaceChildren(...parts.filter(Boolean));
  const { ms } = await renderGraph("evidence", graph, evidenceElements(result));
  graph.dataset.renderMs = ms.toFixed(1);
}

function tableWithId(id, candidates) {
  const t = table("Candidates, most probable first", [
    { title: "Rank", cell: (c) => String(c.rank), num: true },
    { title: "Actor", cell: (c) => actorLink(c.actor_id, c.name) },
    { title: "Aliases", cell: (c) => (c.aliases || []).join(", ") },
    { title: "Country", cell: (c) => c.country || "" },
    { title: "Score", cell: (c) => scoreCell(c.score), num: true },
    { title: "What each kind of evidence added (log-odds)", cell: (c) => signalsText(c.signals) },
  ], candidates);
  t.id = id;
  return t;
}

// The kinds the API reports, in its order; the prior (profile size) is no evidence about this
// activity: left out here, kept in the JSON.
function signalsText(signals) {
  if (!signals) return "";
  return Object.entries(signals)
    .filter(([kind]) => kind !== "prior")
    .map(([kind, v]) => `${kind} ${v.toFixed(2)}`)
    .join(" · ");
}

function scoreCell(score) {
  return h("span", {}, h("span", { class: "bar", style: `width:${Math.round(60 * score)}px`, "aria-hidden": "true" }), ` ${pct(score)}`);
}

function nameOf(result, actorId) {
  return (result.candidates || []).find((c) => c.actor_id === actorId)?.name || actorId;
}

function exportEvidence(rows) {
  downloadCsv(
    "evidence.csv",
    ["actor_id", "actor", "kind", "entity_id", "entity", "label", "input", "weight", "actors_sharing", "hub"],
    rows.map((e) => [e.actor_id, e.actor, e.kind, e.entity.id, e.entity.name, e.entity.label, e.input, e.weight, e.actors_sharing, e.hub]),
  );
}
