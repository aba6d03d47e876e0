import { escapeHtml } from "../html.ts";

export { escapeHtml as esc };

export interface PageOptions {
  readonly prefix: string;
  readonly title: string;
  readonly body: string;
  /** Signed-in user: shows the logout button. */
  readonly user?: string;
  /** Script entry in ui-dist (`overview`, `repository`); none on the login page. */
  readonly script?: string;
}

/** The HTML page frame: styles and scripts from the app's own assets only (CSP, no inline code). */
export function page(options: PageOptions): string {
  const { prefix } = options;
  const assets = `${prefix}/assets`;
  const logout = options.user
    ? `<form class="logout" method="post" action="${prefix}/logout"><span>${escapeHtml(options.user)}</span> <button type="submit">Log out</button></form>`
    : "";
  const script = options.script ? `<script type="module" src="${assets}/${options.script}.js"></script>` : "";
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(options.title)} · registry usage</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${assets}/app.css">${script}</head><body><header><a class="brand" href="${prefix}/dashboard">registry usage</a>${logout}</header><main>${options.body}</main></body></html>`;
}
