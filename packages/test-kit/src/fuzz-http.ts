/** What an HTTP app's error body must look like, e.g. `{ message: string }`. */
export type ErrorShape = (body: Record<string, unknown>) => boolean;

export const hasMessage: ErrorShape = (body) => typeof body.message === "string" && body.message !== "";

/**
 * The HTTP fuzz oracle: a 2xx/3xx, or a 4xx whose body is JSON of the app's error shape. A 5xx
 * fails (these surfaces run on a healthy store, so a 5xx is never a store outage here). Returns
 * the status, the body consumed. A HEAD answer has no body to check.
 */
export async function expectClearHttpAnswer(
  res: Response,
  shape: ErrorShape,
  options: { json?: (type: string) => boolean; method?: string } = {},
): Promise<number> {
  const text = await res.text();
  if (res.status >= 500) throw new Error(`answered ${res.status}: ${text.slice(0, 300)}`);
  if (res.status < 400 || options.method === "HEAD") return res.status;
  const type = res.headers.get("content-type") ?? "";
  const isJson = options.json ?? ((t: string) => /[/+]json\b/.test(t));
  if (!isJson(type))
    throw new Error(`answered ${res.status} with ${type || "no"} content type: ${text.slice(0, 200)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (body === null || typeof body !== "object" || !shape(body as Record<string, unknown>))
    throw new Error(`answered ${res.status} with an error body of the wrong shape: ${text.slice(0, 200)}`);
  return res.status;
}
