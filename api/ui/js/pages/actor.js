// Actors: search by name, alias or ATT&CK id; an actor's profile (GET /v1/actors/{id}) and the
// model's current hypotheses about it (from its briefing, GET /v1/actors/{id}/briefing), a
// timeline of its campaigns, and the briefing as HTML in a sandboxed frame: the API's HTML never
// enters this page's DOM, and the frame may run no script.

import { api } from "../api.js";
import { actorLink, date, h, setStatus, table } from "../dom.js";
import { campaignTimeline } from "../timeline.js";

export function showActor(main, actorId) {
  const q = h("input", { id: "actor-q", name: "actor-q", type: "search", placeholder: "name, alias or ATT&CK id" });
  const hits = h("section", { id: "actor-hits", "aria-label": "Matching actors" });
  const profile = h("section", { id: "actor-profile", "aria-label": "Actor profile" });
  const form = h(
    "form",
    { id: "actor-search", role: "search" },
    h("h1", {}, "Actors"),
    h("div", { class: "row" }, h("label", { for: "actor-q" }, "Find an actor"), q, h("button", { type: "submit" }, "Search")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const found = await api(`/v1/actors?q=${encodeURIComponent(q.value.trim())}&limit=100`);
      hits.replaceChildren(
        table(`${found.count} actors`, [
          { title: "Actor", cell: (a) => actorLink(a.id, a.name) },
          { title: "Aliases", cell: (a) => (a.aliases || []).join(", ") },
          { title: "Country", cell: (a) => a.country || "" },
          { title: "ATT&CK", cell: (a) => a.external_id || "" },
        ], found.data),
      );
      setStatus("");
    } catch (err) {
      setStatus(`Search failed: ${err.message}`, true);
    }
  });
  main.append(form, hits, profile);
  if (actorId) loadProfile(profile, actorId);
}

async function loadProfile(section, actorId) {
  setStatus("Loading the actor…");
  let p;
  try {
    p = await api(`/v1/actors/${encodeURIComponent(actorId)}`);
  } catch (err) {
    setStatus(`Actor ${actorId}: ${err.message}`, true);
    return;
  }
  const a = p.actor;
  const campaigns = [...p.campaigns].sort((x, y) => String(x.first_seen || "").localeCompare(String(y.first_seen || "")));
  section.replaceChildren(
    h("h1", { id: "actor-name" }, a.name || a.id),
    h(
      "dl",
      {},
      h("dt", {}, "Aliases"),
      h("dd", {}, (a.aliases || []).length ? a.aliases.map((x) => h("span", { class: "tag" }, x)) : "None known."),
      h("dt", {}, "Country"),
      h("dd", {}, a.country || "Unknown"),
      a.external_id ? [h("dt", {}, "ATT&CK"), h("dd", {}, a.external_id)] : null,
      a.sources ? [h("dt", {}, "Sources"), h("dd", {}, [].concat(a.sources).join(", "))] : null,
    ),
    h("h2", {}, "Campaigns over time"),
    campaignTimeline(campaigns),
    table("Campaigns attributed to the actor, oldest first", [
      { title: "First seen", cell: (c) => date(c.first_seen) },
      { title: "Last seen", cell: (c) => date(c.last_seen) },
      { title: "Campaign", cell: (c) => c.name || c.id },
      { title: "Confidence", cell: (c) => (c.confidence ?? "") + "", num: true },
    ], campaigns),
    h("h2", {}, "Malware and tools"),
    table("Malware and tools the actor uses", [
      { title: "Name", cell: (x) => x.name || x.id },
      { title: "Type", cell: (x) => x.type },
      { title: "Used", cell: (x) => via(x.via) },
    ], [...p.malware.map((x) => ({ ...x, type: "malware" })), ...p.tools.map((x) => ({ ...x, type: "tool" }))]),
    h("h2", {}, "Techniques"),
    table("Techniques, rarest first", [
      { title: "ATT&CK", cell: (t) => t.external_id || "" },
      { title: "Name", cell: (t) => t.name || t.id },
      { title: "Actors using it", cell: (t) => String(t.actors ?? ""), num: true },
    ], p.techniques),
    h("h2", {}, "Infrastructure"),
    table("Infrastructure", [
      { title: "Kind", cell: (x) => x.kind || "" },
      { title: "Value", cell: (x) => x.name || x.value || x.id },
      { title: "Used", cell: (x) => via(x.via) },
    ], p.infrastructure),
    h("h2", {}, "Recent indicators"),
    table("Indicators, most recently seen first", [
      { title: "Kind", cell: (i) => i.kind || "" },
      { title: "Value", cell: (i) => h("a", { href: `#/pivot/${encodeURIComponent(i.value || i.id)}` }, i.value || i.id) },
      { title: "Last seen", cell: (i) => date(i.last_seen || i.first_seen) },
    ], p.indicators),
    h("h2", {}, "Model hypotheses (not findings)"),
    h("div", { id: "actor-predictions" }, h("p", { class: "muted" }, "Loading…")),
    h("h2", {}, "Briefing"),
    h("div", { id: "actor-briefing" }, h("p", { class: "muted" }, "Loading…")),
  );
  setStatus("");
  loadPredictions(section.querySelector("#actor-predictions"), actorId);
  loadBriefing(section.querySelector("#actor-briefing"), actorId, a.name || a.id);
}

// "direct" or the campaigns through which the actor uses something.
function via(value) {
  const ways = [].concat(value ?? []);
  const campaigns = ways.filter((w) => w !== "direct").length;
  return [ways.includes("direct") ? "directly" : null, campaigns ? `in ${campaigns} campaign${campaigns > 1 ? "s" : ""}` : null]
    .filter(Boolean)
    .join(", ");
}

async function loadPredictions(box, actorId) {
  try {
    const brief = await api(`/v1/actors/${encodeURIComponent(actorId)}/briefing`);
    box.replaceChildren(
      table("Campaigns the model currently attributes to this actor", [
        { title: "Campaign", cell: (pr) => pr.campaign },
        { title: "Score", cell: (pr) => `${(100 * pr.score).toFixed(0)} %`, num: true },
        { title: "Rank", cell: (pr) => String(pr.rank), num: true },
        { title: "Model", cell: (pr) => pr.model_version || "" },
        { title: "Analysts say", cell: (pr) => (pr.attributed_to || []).join(", ") },
      ], brief.predictions || []),
    );
  } catch (err) {
    box.replaceChildren(h("p", { class: "muted" }, `Hypotheses unavailable: ${err.message}`));
  }
}

async function loadBriefing(box, actorId, name) {
  try {
    const html = await api(`/v1/actors/${encodeURIComponent(actorId)}/briefing?format=html`, { accept: "text/html" });
    // sandbox="" : no script, no same-origin access, no forms, no navigation of this page.
    box.replaceChildren(
      h("iframe", { id: "briefing-frame", class: "briefing", sandbox: "", srcdoc: html, title: `Briefing on ${name}` }),
    );
  } catch (err) {
    box.replaceChildren(h("p", { class: "muted" }, `Briefing unavailable: ${err.message}`));
  }
}
