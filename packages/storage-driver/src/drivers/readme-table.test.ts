import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { booleanCapabilities } from "../types.ts";
import { registeredDrivers } from "./registry.ts";

// Issue 25: adding a driver is its files, one registration and a README row; the row must say
// what the registration does (scheme, options, credentials, capabilities).
const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");

/** The drivers table's rows by driver kind, each as its cells. */
function driverRows(): Map<string, string[]> {
  const start = readme.indexOf("<!-- drivers table");
  const lines = readme.slice(start).split("\n").slice(1);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(2)) {
    if (!line.startsWith("|")) break;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim());
    rows.set(cells[0]!.replaceAll("`", ""), cells);
  }
  return rows;
}

const quoted = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);

describe("the README's drivers table", () => {
  const rows = driverRows();

  it("has one row per registered driver and no other", () => {
    expect([...rows.keys()].sort()).toEqual(
      registeredDrivers()
        .map((driver) => driver.kind)
        .sort(),
    );
  });

  it.each(registeredDrivers().map((driver) => [driver.kind, driver] as const))(
    "states the schemes, options, credentials and capabilities of %s",
    (_kind, driver) => {
      const [, url, options, credentials, capabilities] = rows.get(driver.kind) ?? [];
      for (const scheme of driver.schemes) expect(url).toContain(`${scheme}:`);
      expect(quoted(options ?? "").sort()).toEqual([...driver.options].sort());
      for (const variable of driver.credentials) expect(quoted(credentials ?? "")).toContain(variable);
      const stated = new Map<string, boolean | "depends">();
      for (const part of (capabilities ?? "").split(";")) {
        const [label, names] = part.split(":");
        const value = { yes: true, no: false, depends: "depends" as const }[label!.trim()];
        for (const name of names?.split(",") ?? []) stated.set(name.trim(), value!);
      }
      expect(Object.fromEntries(stated)).toEqual(
        Object.fromEntries(booleanCapabilities.map((name) => [name, driver.capabilities[name]])),
      );
    },
  );
});
