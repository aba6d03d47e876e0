import fc from "fast-check";

/** Strings parsers get wrong: control bytes, lone surrogates, traversal, encodings, huge, numeric-looking. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\r\n",
    "\ud800",
    "💥",
    "..",
    "../../etc/passwd",
    "/",
    "//",
    "\\",
    "%00",
    "%2e%2e%2f",
    "%",
    "a".repeat(5000),
    "null",
    "undefined",
    "NaN",
    "-1",
    "0",
    "1e309",
    "9007199254740993",
    "{",
    "[]",
    "__proto__",
    "constructor",
    "refs/heads/main",
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);

/** Any JSON-ish value, with the hostile strings and extreme numbers weighted in. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 1e308, 5e15),
    fc.integer(),
    hostileText,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileText, fc.string({ maxLength: 8 })), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Raw bytes read as latin1 text: what a broken client or a port scanner sends. */
export const rawBytes: fc.Arbitrary<string> = fc
  .uint8Array({ maxLength: 96 })
  .map((bytes) => Buffer.from(bytes).toString("latin1"));

/** A JSON path into `value` (object keys and array indexes), each of its nodes a candidate. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const children = Array.isArray(value)
    ? value.map((item, i) => paths(item, [...prefix, i]))
    : Object.entries(value).map(([key, item]) => paths(item, [...prefix, key]));
  return [prefix, ...children.flat()];
}

function setAt(
  root: unknown,
  path: readonly (string | number)[],
  replace: (old: unknown) => unknown,
): unknown {
  if (path.length === 0) return replace(root);
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = setAt(copy[head], rest, replace);
  return copy;
}

/**
 * A valid JSON body broken in one way: a node replaced by any value, a key dropped, an extra key,
 * the text cut short, or stray bytes. Most inputs stay close to valid, so they reach deep parsers.
 */
export function mutatedJson(valid: unknown): fc.Arbitrary<string> {
  const nodes = paths(valid);
  const node = fc.constantFrom(...nodes);
  const text = JSON.stringify(valid);
  return fc.oneof(
    fc.tuple(node, anyJson).map(([path, value]) => JSON.stringify(setAt(valid, path, () => value))),
    node
      .filter((path) => path.length > 0)
      .map((path) =>
        JSON.stringify(
          setAt(valid, path.slice(0, -1), (parent) => {
            if (Array.isArray(parent)) return parent.filter((_, i) => i !== path.at(-1));
            const { [path.at(-1) as string]: _dropped, ...rest } = parent as Record<string, unknown>;
            return rest;
          }),
        ),
      ),
    fc
      .tuple(node, hostileText, anyJson)
      .map(([path, key, value]) =>
        JSON.stringify(
          setAt(valid, path, (old) =>
            old !== null && typeof old === "object" && !Array.isArray(old) ? { ...old, [key]: value } : old,
          ),
        ),
      ),
    fc.nat(text.length).map((cut) => text.slice(0, cut)),
    fc.tuple(fc.nat(text.length), rawBytes).map(([at, bytes]) => text.slice(0, at) + bytes + text.slice(at)),
    anyJson.map((value) => JSON.stringify(value) ?? "null"),
    rawBytes,
  );
}

/** A URL path segment or query value from hostile text, percent-encoded (sometimes badly). */
export const urlPiece: fc.Arbitrary<string> = fc.oneof(
  hostileText.map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "x"))),
  fc.constantFrom("%", "%E0%A4%A", "%ZZ", "%2F", "%00", "..", ".", "%2e%2e", "a/../../b"),
);
