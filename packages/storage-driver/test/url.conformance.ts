/**
 * The conformance suite against the storage URL in WHARF_CONFORMANCE_URL, opened by `openStorage`
 * with the credentials its driver reads from the environment. Run it with
 * `pnpm --filter @wharf/storage-driver conformance <url>` (see the README's "Writing a driver").
 */
import { WharfError } from "@wharf/errors";
import { testDriver } from "../src/conformance/index.ts";
import { openStorage } from "../src/open-storage.ts";

const url = process.env.WHARF_CONFORMANCE_URL;
if (!url) throw new WharfError("INVALID_ARGUMENT", "set WHARF_CONFORMANCE_URL to the storage URL under test");

testDriver({
  name: url.replace(/\?.*$/, ""),
  create: () => openStorage(url),
  largeObjectBytes: Number(process.env.WHARF_LARGE_OBJECT_BYTES ?? 64 * 1024 * 1024),
});
