/**
 * `pnpm bench fuzz-bitstore [runs] [seed]`: 10,000 hostile requests to bitstore in local-disk mode
 * (fs driver in a temp folder) over loopback: `/authorize` JSON bodies, tokens and content types,
 * and form POSTs built from a valid form with fields dropped, changed or added, bodies short, long
 * or altered, broken framing and boundaries. Each is a 4xx JSON (or S3 XML) error or a success,
 * never a 5xx; the key holds nothing or exactly the declared body; a good upload every 50; memory
 * bounded. Reference: a known-good form upload replayed in the same run.
 */
import { benchFuzz } from "@wharf/test-kit";
import { bitstoreSurface } from "../apps/bitstore/test/fuzz-surface.ts";

await using surface = await bitstoreSurface();
await benchFuzz(surface);
