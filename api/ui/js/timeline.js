// Campaigns over time as a small SVG: one bar per dated campaign, from first to last seen.
// The table beside it holds the same facts for screen readers; the SVG is a picture of it.

const NS = "http://www.w3.org/2000/svg";
const ROW = 20;
const LABEL_W = 200;
const WIDTH = 800;
const DAY_MS = 86400000;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.append(document.createTextNode(String(text)));
  return el;
}

function time(value) {
  const t = value ? Date.parse(String(value)) : NaN;
  return Number.isNaN(t) ? null : t;
}

// campaigns: [{id, name, first_seen, last_seen}]; those without a parsable date are left out.
export function campaignTimeline(campaigns) {
  const rows = campaigns
    .map((c) => {
      const start = time(c.first_seen) ?? time(c.last_seen);
      const end = time(c.last_seen) ?? start;
      return start === null ? null : { c, start, end: Math.max(start, end) };
    })
    .filter(Boolean);
  const height = ROW * rows.length + 24;
  const box = svg("svg", {
    id: "campaign-timeline",
    class: "timeline",
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "aria-label": `Timeline of ${rows.length} dated campaigns; the table below lists them`,
  });
  if (!rows.length) return box;
  const low = Math.min(...rows.map((r) => r.start));
  const high = Math.max(...rows.map((r) => r.end), low + DAY_MS);
  const x = (t) => LABEL_W + ((t - low) / (high - low)) * (WIDTH - LABEL_W - 10);
  rows.forEach(({ c, start, end }, i) => {
    const y = i * ROW + 4;
    const label = c.name || c.id;
    box.append(
      svg("text", { x: LABEL_W - 6, y: y + ROW / 2 + 1, class: "tl-label", "text-anchor": "end" }, label.length > 28 ? `${label.slice(0, 27)}…` : label),
      svg("rect", { class: "tl-bar", x: x(start), y, width: Math.max(3, x(end) - x(start)), height: ROW - 6, "data-campaign": c.id }),
    );
    box.lastChild.append(svg("title", {}, `${label}: ${String(c.first_seen || "").slice(0, 10)} to ${String(c.last_seen || c.first_seen || "").slice(0, 10)}`));
  });
  const axisY = rows.length * ROW + 18;
  box.append(
    svg("text", { x: LABEL_W, y: axisY, class: "tl-axis" }, new Date(low).toISOString().slice(0, 10)),
    svg("text", { x: WIDTH - 10, y: axisY, class: "tl-axis", "text-anchor": "end" }, new Date(high).toISOString().slice(0, 10)),
  );
  return box;
}
