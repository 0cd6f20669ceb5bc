// Graph views (Cytoscape.js): the evidence of an attribution and an indicator's neighbourhood.
// Each view is kept in window.actorgraphConsole.graphs under its name, for the browser tests and
// for anyone inspecting the page from the developer tools.

import cytoscape from "../vendor/cytoscape.esm.min.js";

const SHAPES = {
  Malware: "round-rectangle",
  Tool: "round-rectangle",
  Technique: "diamond",
  Indicator: "ellipse",
  Infrastructure: "hexagon",
  Campaign: "round-triangle",
  ThreatActor: "ellipse",
};

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-size": 10,
      color: "#1b1f24",
      "text-wrap": "ellipsis",
      "text-max-width": 140,
      "text-valign": "bottom",
      "text-margin-y": 3,
      "background-color": "#8a96a3",
      shape: (n) => SHAPES[n.data("kind")] || "ellipse",
      width: 18,
      height: 18,
    },
  },
  { selector: "node.centre", style: { "background-color": "#1b1f24", width: 34, height: 34, "font-weight": "bold" } },
  {
    selector: "node.actor",
    style: {
      "background-color": "#0b4f9c",
      width: (n) => 22 + 40 * (n.data("score") || 0),
      height: (n) => 22 + 40 * (n.data("score") || 0),
      "font-weight": "bold",
    },
  },
  { selector: "node.hub", style: { "background-color": "#f2b233", "border-width": 3, "border-style": "dashed", "border-color": "#6b4000" } },
  {
    selector: "edge",
    style: {
      width: (e) => 1 + 4 * Math.min(1, e.data("weight") || 0),
      "line-color": "#9aa5b1",
      "curve-style": "bezier",
      "target-arrow-shape": "triangle",
      "target-arrow-color": "#9aa5b1",
      "arrow-scale": 0.7,
    },
  },
  { selector: "edge.hub", style: { "line-style": "dashed", "line-color": "#c98a00" } },
  // An actor reached from a pivot in several hops: a summary, not one relationship.
  { selector: "edge.reach", style: { "line-style": "dotted", "line-color": "#0b4f9c", "target-arrow-color": "#0b4f9c" } },
  { selector: ":selected", style: { "border-width": 3, "border-color": "#b35900" } },
];

const LEVELS = { centre: 3, entity: 2, actor: 1 };
const MAX_FIT_ZOOM = 1.5;

export function evidenceElements(result) {
  const nodes = new Map();
  const edges = [];
  nodes.set("activity", {
    data: { id: "activity", label: result.input || "activity", level: "centre" },
    classes: "centre",
  });
  for (const c of result.candidates || []) {
    nodes.set(`actor:${c.actor_id}`, {
      data: {
        id: `actor:${c.actor_id}`,
        label: `${c.name || c.actor_id} (${(100 * c.score).toFixed(0)} %)`,
        kind: "ThreatActor",
        score: c.score,
        level: "actor",
        href: `#/actor/${encodeURIComponent(c.actor_id)}`,
      },
      classes: "actor",
    });
  }
  for (const [i, ev] of (result.evidence || []).entries()) {
    const entity = `entity:${ev.entity.id}`;
    const hub = ev.hub ? " hub" : "";
    if (!nodes.has(entity)) {
      const name = ev.entity.name || ev.entity.id;
      nodes.set(entity, {
        data: {
          id: entity,
          label: ev.hub ? `⚠ ${name}` : name,
          kind: ev.entity.label,
          level: "entity",
          hub: ev.hub || "",
        },
        classes: `entity${hub}`,
      });
      edges.push({
        data: { id: `in:${i}`, source: "activity", target: entity, weight: 0.2, label: ev.input || "" },
        classes: hub.trim(),
      });
    }
    if (nodes.has(`actor:${ev.actor_id}`)) {
      edges.push({
        data: { id: `ev:${i}`, source: entity, target: `actor:${ev.actor_id}`, weight: ev.weight, label: ev.kind },
        classes: hub.trim(),
      });
    }
  }
  return [...nodes.values(), ...edges];
}

export function pivotElements(pivot) {
  const centre = `ind:${pivot.indicator.id}`;
  const nodes = [
    { data: { id: centre, label: pivot.value, kind: "Indicator", level: "centre" }, classes: "centre" },
  ];
  const edges = [];
  const seen = new Set([centre]);
  for (const [i, n] of (pivot.neighbours || []).entries()) {
    const id = `n:${n.id}`;
    if (!seen.has(id)) {
      seen.add(id);
      nodes.push({ data: { id, label: n.name || n.id, kind: n.label, level: "entity" }, classes: "entity" });
    }
    const [source, target] = n.outgoing ? [centre, id] : [id, centre];
    edges.push({ data: { id: `r:${i}`, source, target, weight: 0.2, label: n.relationship } });
  }
  for (const a of pivot.actors || []) {
    const id = `actor:${a.id}`;
    if (!seen.has(id)) {
      seen.add(id);
      nodes.push({
        data: {
          id,
          label: a.name || a.id,
          kind: "ThreatActor",
          score: 0.3,
          level: "actor",
          href: `#/actor/${encodeURIComponent(a.id)}`,
        },
        classes: "actor",
      });
    }
    edges.push({
      data: { id: `p:${a.id}`, source: centre, target: id, weight: 1 / (a.shortest || 1), label: `${a.shortest} hops` },
      classes: "reach",
    });
  }
  return [...nodes, ...edges];
}

// Draws `elements` into `container` (replacing any view of the same name); returns the
// Cytoscape instance and the milliseconds from the call until the first frame was drawn.
export function renderGraph(name, container, elements) {
  const registry = (window.actorgraphConsole ??= { graphs: {} });
  registry.graphs[name]?.destroy();
  const start = performance.now();
  const cy = cytoscape({
    container,
    elements,
    style: STYLE,
    layout: {
      name: "concentric",
      concentric: (n) => LEVELS[n.data("level")] || 1,
      levelWidth: () => 1,
      minNodeSpacing: 12,
      animate: false,
    },
  });
  // A handful of nodes would otherwise be fitted at a giant zoom.
  if (cy.zoom() > MAX_FIT_ZOOM) {
    cy.zoom(MAX_FIT_ZOOM);
    cy.center();
  }
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href) window.location.hash = href;
  });
  registry.graphs[name] = cy;
  // Cytoscape draws on its own animation frame: the timing stops at its first "render" event,
  // or after two frames if that event came before the listener.
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve({ cy, ms: performance.now() - start });
      }
    };
    cy.one("render", finish);
    requestAnimationFrame(() => requestAnimationFrame(finish));
  });
}
