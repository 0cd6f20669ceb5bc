// Decide on a stored campaign (#/decide/<campaign id>): the model's hypotheses and the
// analysts' attributions side by side (GET /v1/campaigns/{id}), then the decision form.

import { api } from "../api.js";
import { decidePanel } from "../decide.js";
import { actorLink, h, pct, setStatus, table } from "../dom.js";

export async function showDecide(main, campaignId) {
  main.append(h("h1", {}, "Decide on a campaign"));
  if (!campaignId) {
    main.append(h("p", { class: "muted" }, "Attribute activity with “Store as a campaign” ticked, then decide on it here."));
    return;
  }
  let p;
  try {
    p = await api(`/v1/campaigns/${encodeURIComponent(campaignId)}`);
  } catch (err) {
    setStatus(`Campaign ${campaignId}: ${err.message}`, true);
    return;
  }
  const candidates = (p.hypotheses || []).map((x) => ({ actor_id: x.id, name: x.name, score: x.score, rank: x.rank }));
  main.append(
    h("p", { id: "campaign-name" }, p.campaign.name || campaignId),
    h("h2", {}, "Model hypotheses (not findings)"),
    table("Actors the model proposed, best first", [
      { title: "Rank", cell: (c) => String(c.rank ?? ""), num: true },
      { title: "Actor", cell: (c) => actorLink(c.actor_id, c.name) },
      { title: "Score", cell: (c) => pct(c.score), num: true },
    ], candidates),
    h("h2", {}, "Attributed to"),
    table("Attributions in force", [
      { title: "Actor", cell: (a) => actorLink(a.id, a.name) },
      { title: "Confidence", cell: (a) => String(a.confidence ?? ""), num: true },
    ], p.attributed_to || []),
    decidePanel(campaignId, candidates),
  );
}
