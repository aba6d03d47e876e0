/**
 * `pnpm bench fuzz-registry [runs] [seed]`: 10,000 hostile requests to registry-usage over
 * loopback (paths and %-encoded names under /repositories and /images, HAL query strings, Accept
 * and auth headers, notification envelopes, bodies past the cap), each answered with a 4xx JSON
 * error or a success, never a 5xx, a good tag request every 50, and memory bounded. Reference: a
 * known-good tag request replayed in the same run.
 */
import { benchFuzz } from "@wharf/test-kit";
import { registrySurface } from "../apps/registry-usage/test/fuzz-surface.ts";

await using surface = await registrySurface();
await benchFuzz(surface);
