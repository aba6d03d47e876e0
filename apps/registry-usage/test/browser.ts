import { type Browser, chromium } from "playwright-core";

/** Debian's chromium (infra/apt-deps.sh) driven by playwright-core, which downloads no browser. */
export async function launchChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}
