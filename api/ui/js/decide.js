// Decide: an analyst accepts, rejects or re-attributes the model's hypothesis for a stored
// campaign (POST /v1/campaigns/{id}/decisions) and sees the campaign's decision history.
// A reader key may read the history but the API refuses its decisions with 403.

import { api } from "./api.js";
import { actorLink, date, h, table } from "./dom.js";

// The Admiralty and ICD 203 bands come from the API (graph/confidence.py is their one
// definition), fetched once per page load.
let scales = null;

function confidenceScales() {
  scales ??= api("/v1/confidence-scales").catch((err) => {
    scales = null; // try again next time
    throw err;
  });
  return scales;
}

function band(value, bands) {
  return bands.find((b) => value >= b.low)?.name ?? "";
}

export async function confidenceWords(value) {
  const s = await confidenceScales();
  return `Admiralty ${band(value, s.admiralty)}; ICD 203: ${band(value, s.icd203)}`;
}

// candidates: [{actor_id, name}] the model proposed, best first (the first is what accept means).
export function decidePanel(campaignId, candidates) {
  const top = candidates[0];
  const choice = (value, text, checked = false) =>
    h("label", { class: "choice" }, h("input", { type: "radio", name: "decision", value, checked }), ` ${text}`);
  const other = h("input", { id: "decision-actor", name: "decision-actor", type: "text", list: "decision-actors", placeholder: "actor id" });
  const reason = h("textarea", { id: "decision-reason", name: "decision-reason", required: true, maxlength: 2000 });
  const confidence = h("input", { id: "decision-confidence", name: "decision-confidence", type: "range", min: 0, max: 100, step: 5, value: 60 });
  const words = h("output", { id: "decision-confidence-words", for: "decision-confidence" });
  const showWords = async () => {
    const value = Number(confidence.value);
    words.textContent = String(value);
    try {
      const text = await confidenceWords(value);
      if (Number(confidence.value) === value) words.textContent = `${value}: ${text}`;
    } catch {
      // The number alone still says it; the bands return when the API answers.
    }
  };
  confidence.addEventListener("input", showWords);
  showWords();
  const message = h("p", { id: "decision-message", role: "alert" });
  const history = h("div", { id: "decision-history" });
  const form = h(
    "form",
    { id: "decision-form" },
    h(
      "fieldset",
      {},
      h("legend", {}, "Decision"),
      choice("accept", `accept the top prediction${top ? ` (${top.name || top.actor_id})` : ""}`, true),
      choice("reject", "reject it"),
      choice("attribute", "attribute to another actor:"),
      h("label", { for: "decision-actor", class: "sr" }, "Other actor"),
      other,
      h("datalist", { id: "decision-actors" }, candidates.map((c) => h("option", { value: c.actor_id }, c.name || c.actor_id))),
    ),
    h("label", { for: "decision-reason" }, "Reason"),
    reason,
    h("div", { class: "row" }, h("label", { for: "decision-confidence" }, "Confidence (0-100)"), confidence, words),
    h("button", { type: "submit", id: "decision-submit" }, "Record decision"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = form.querySelector("input[name=decision]:checked").value;
    const body = { decision, reason: reason.value.trim(), confidence: Number(confidence.value) };
    if (decision === "attribute") body.actor_id = other.value.trim();
    message.className = "";
    message.textContent = "Recording…";
    try {
      const made = await api(`/v1/campaigns/${encodeURIComponent(campaignId)}/decisions`, { method: "POST", body });
      const named = candidates.find((c) => c.actor_id === made.actor_id)?.name;
      message.textContent = `Recorded: ${made.decision} ${made.actor_name || named || made.actor_id}.`;
      reason.value = "";
    } catch (err) {
      message.className = "error";
      message.textContent =
        err.status === 403
          ? "Your key may not record decisions (it needs the analyst role): you see the model's prediction only."
          : `Decision not recorded: ${err.message}`;
    }
    await loadHistory(history, campaignId);
  });
  const panel = h(
    "section",
    { id: "decide", "aria-labelledby": "decide-title" },
    h("h2", { id: "decide-title" }, "Decide"),
    h("p", { class: "muted" }, "Stored as campaign ", h("code", { id: "campaign-id" }, campaignId), "."),
    form,
    message,
    h("h3", {}, "Decision history"),
    history,
  );
  loadHistory(history, campaignId);
  return panel;
}

async function loadHistory(box, campaignId) {
  try {
    const found = await api(`/v1/campaigns/${encodeURIComponent(campaignId)}/decisions`);
    box.replaceChildren(
      table("Decisions, newest first; the newest about an actor is in force", [
        { title: "When", cell: (d) => date(d.created) },
        { title: "Decision", cell: (d) => d.decision },
        { title: "Actor", cell: (d) => actorLink(d.actor_id, d.actor_name) },
        { title: "Confidence", cell: (d) => confidenceCell(d) },
        { title: "Reason", cell: (d) => d.reason },
        { title: "By", cell: (d) => d.decided_by },
      ], found.data),
    );
  } catch (err) {
    box.replaceChildren(h("p", { class: "muted" }, `History unavailable: ${err.message}`));
  }
}

function confidenceCell(d) {
  const s = d.confidence_scales || {};
  if (d.confidence === null || d.confidence === undefined) return s.admiralty || "";
  return `${d.confidence} (${s.admiralty}; ${s.icd203})`;
}
