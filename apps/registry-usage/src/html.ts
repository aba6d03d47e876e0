export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every(isRecord)) {
      const columns = [...new Set(value.flatMap((row) => Object.keys(row)))];
      const head = `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>`;
      const rows = value.map((row) => `<tr>${columns.map((c) => `<td>${cell(row[c])}</td>`).join("")}</tr>`);
      return `<table border="1">${head}<tbody>${rows.join("")}</tbody></table>`;
    }
    return `<ul>${value.map((item) => `<li>${cell(item)}</li>`).join("")}</ul>`;
  }
  if (isRecord(value)) {
    if (typeof value.href === "string" && Object.keys(value).every((k) => k === "href" || k === "title")) {
      return `<a href="${escapeHtml(value.href)}">${escapeHtml(String(value.title ?? value.href))}</a>`;
    }
    const rows = Object.entries(value).map(
      ([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${cell(v)}</td></tr>`,
    );
    return `<table border="1">${rows.join("")}</table>`;
  }
  return escapeHtml(String(value));
}

/** The original's `Accept: text/html` view (json2html): nested tables, links clickable, all escaped. */
export function renderHtml(body: unknown): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>registry usage</title></head><body>${cell(body)}</body></html>`;
}

/** True when the client ranks text/html above JSON (a browser), as in the original's negotiation. */
export function wantsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranked = accept
    .split(",")
    .map((part, index) => {
      const [type = "", ...params] = part.trim().toLowerCase().split(";");
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      return { type: type.trim(), q: qParam ? Number(qParam.slice(2)) : 1, index };
    })
    .filter((entry) =>
      ["text/html", "application/json", "application/hal+json", "application/*", "*/*"].includes(entry.type),
    )
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.type === "text/html";
}
