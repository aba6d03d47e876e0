/** The query string of `GET /freed` for tags of one repository (server links and the page script). */
export function freedQuery(repository: string, tags: Iterable<string>): string {
  const params = new URLSearchParams({ repository });
  for (const tag of tags) params.append("tag", tag);
  return params.toString();
}
