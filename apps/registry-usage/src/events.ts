import { type AuthEnv, constantTimeEqual } from "@wharf/auth-jwt";
import { WharfError } from "@wharf/errors";
import type { HttpEnv } from "@wharf/http-kit";
import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { DirtyMarks } from "./dirty-marks.ts";
import { mediaTypes } from "./manifest.ts";

/** The envelope media type distribution's notifications use. */
export const eventsMediaType = "application/vnd.docker.distribution.events.v1+json";

export interface NotificationsConfig {
  /** Shared secret the registry sends; the endpoint exists only when it is set. */
  readonly secret: string;
  /** Path below the server prefix, e.g. `/events`. */
  readonly path: string;
  /** Header carrying the secret (`Authorization`: `Bearer <secret>` or the bare secret). */
  readonly header: string;
}

interface RegistryEvent {
  readonly action?: unknown;
  readonly target?: { readonly repository?: unknown; readonly mediaType?: unknown; readonly tag?: unknown };
}

const manifestTypes = new Set<string>(Object.values(mediaTypes));

/**
 * The repositories whose tags an envelope says changed: manifest pushes (by tag or digest) and
 * every delete (a tag, a manifest, or a blob: distribution 2.8 does not say which). Pulls, mounts
 * and blob pushes change no tag and are ignored.
 */
export function changedRepositories(envelope: unknown): { repositories: Set<string>; events: number } {
  const events = (envelope as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new WharfError("INVALID_ARGUMENT", "the body has no events array");
  const repositories = new Set<string>();
  for (const event of events as RegistryEvent[]) {
    const repo = event?.target?.repository;
    if (typeof repo !== "string" || repo === "") continue;
    const mediaType = event.target?.mediaType;
    const manifest =
      typeof event.target?.tag === "string" ||
      (typeof mediaType === "string" && manifestTypes.has(mediaType.split(";")[0]!.trim()));
    if (event.action === "delete" || (event.action === "push" && manifest)) repositories.add(repo);
  }
  return { repositories, events: events.length };
}

/**
 * `POST <prefix><path>`: the registry's notification endpoint. Checks the shared secret in
 * constant time, records the changed repositories as dirty marks in the store and answers 200; a
 * store failure answers 503 so that the registry retries the envelope.
 */
export function registerEventsRoute(
  app: Hono<HttpEnv & AuthEnv>,
  prefix: string,
  config: NotificationsConfig,
  marks: DirtyMarks,
): void {
  const route = `${prefix}${config.path}`;
  const expected = config.secret;
  app.post(
    route,
    async (c, next) => {
      const presented = c.req.header(config.header) ?? "";
      const value = /^bearer\s+/i.test(presented) ? presented.replace(/^bearer\s+/i, "") : presented;
      if (!constantTimeEqual(value, expected)) {
        c.var.log.warn({ header: config.header, present: presented !== "" }, "notification refused");
        throw new WharfError("UNAUTHENTICATED", "bad or missing notification secret", {
          details: { challenge: { scheme: "Bearer", realm: "registry-usage-events" } },
        });
      }
      await next();
    },
    bodyLimit({
      maxSize: 4 << 20,
      onError: () => {
        throw new WharfError("PAYLOAD_TOO_LARGE", "notification envelope larger than 4 MiB");
      },
    }),
    async (c) => {
      // Read outside the try: a chunked body over the limit fails the read, and is answered 413.
      const text = await c.req.text();
      let envelope: unknown;
      try {
        envelope = JSON.parse(text);
      } catch {
        throw new WharfError("INVALID_ARGUMENT", "the body is not JSON");
      }
      const { repositories, events } = changedRepositories(envelope);
      try {
        if (events > 0) await marks.noteSeen();
        if (repositories.size > 0) await marks.record(repositories);
      } catch (error) {
        c.var.log.error({ err: error }, "cannot record notification");
        throw new WharfError("UNAVAILABLE", "cannot record the notification, retry", { cause: error });
      }
      c.var.log.info({ events, dirty: [...repositories] }, "notification recorded");
      return c.json({ recorded: [...repositories] });
    },
  );
}
