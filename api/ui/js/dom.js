// DOM helpers. Text from the API always goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function table(caption, columns, rows) {
  // columns: [{title, cell(row) -> Node|string, num?}]
  return h(
    "table",
    {},
    h("caption", { class: "muted" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.title)))),
    h(
      "tbody",
      {},
      rows.length
        ? rows.map((r) => h("tr", { class: r.hub ? "hub" : null }, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r) ?? ""))))
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "None.")),
    ),
  );
}

export function pct(x) {
  return typeof x === "number" ? `${(100 * x).toFixed(1)} %` : "";
}

export function date(value) {
  return value ? String(value).slice(0, 10) : "";
}

export function actorLink(id, text) {
  return h("a", { href: `#/actor/${encodeURIComponent(id)}` }, text || id);
}

export function setStatus(text, isError = false) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

export function downloadCsv(filename, header, rows) {
  const quote = (v) => `"${String(v ?? "").replaceAll('"', '""')}"`;
  const text = [header, ...rows].map((r) => r.map(quote).join(",")).join("\r\n");
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
