/** Rewrites every `<time datetime>` in the viewer's locale and time zone (Intl). */
export function localizeDates(root: ParentNode = document): void {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of root.querySelectorAll<HTMLTimeElement>("time[datetime]")) {
    const date = new Date(el.dateTime);
    if (!Number.isNaN(date.getTime())) el.textContent = format.format(date);
  }
}
