import { formatBytes } from "../src/web/format.ts";
import { freedQuery } from "../src/web/freed-query.ts";
import { localizeDates } from "./dates.ts";

interface Freed {
  freed_size: number;
  freed_blob_count: number;
  blob_count: number;
}

/** Recomputes "freed if deleted" through `GET /freed` whenever the tag selection changes. */
function watchSelection(form: HTMLFormElement): void {
  const output = form.querySelector<HTMLOutputElement>("#freed")!;
  const json = form.querySelector<HTMLAnchorElement>("#freed-json")!;
  let latest = 0;
  form.addEventListener("change", async () => {
    const tags = [...form.querySelectorAll<HTMLInputElement>('input[name="tag"]:checked')].map(
      (i) => i.value,
    );
    const request = ++latest;
    if (tags.length === 0) {
      output.textContent = "select tags";
      return;
    }
    const href = `${form.dataset.src}?${freedQuery(form.dataset.repository!, tags)}`;
    json.href = href;
    const res = await fetch(href, { headers: { accept: "application/json" } });
    if (request !== latest) return;
    if (!res.ok) {
      output.textContent = `cannot compute (${res.status})`;
      return;
    }
    const freed = (await res.json()) as Freed;
    const data = document.createElement("data");
    data.value = String(freed.freed_size);
    data.textContent = `${formatBytes(freed.freed_size)} (${freed.freed_blob_count} of ${freed.blob_count} blobs)`;
    output.replaceChildren(data);
  });
}

localizeDates();
const form = document.getElementById("freed-form");
if (form instanceof HTMLFormElement) watchSelection(form);
