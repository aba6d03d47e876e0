import { isWharfError, WharfError } from "@wharf/errors";
import type { Hono } from "hono";
import { z } from "zod";
import type { Authenticator, Principal } from "./auth.ts";
import { checkAccept, type LfsContext, type LfsEnv, lfsJson, readJson } from "./http.ts";
import { parseRepo } from "./layout.ts";
import type { LockStore } from "./locks.ts";

const ref = z.object({ name: z.string().min(1).max(1024) }).nullish();
const createSchema = z.object({ path: z.string().min(1).max(4096), ref });
const verifySchema = z.object({
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(1000).nullish(),
  ref,
});
const unlockSchema = z.object({ force: z.boolean().nullish(), ref });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new WharfError("INVALID_ARGUMENT", `invalid lock request${where}: ${issue?.message ?? "bad shape"}`);
}

function limitOf(raw: string | undefined | null): number {
  if (raw === undefined || raw === null || raw === "") return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new WharfError("INVALID_ARGUMENT", "limit must be a positive integer");
  return Math.min(n, 1000);
}

export interface LockRoutesDeps {
  readonly auth: Authenticator;
  readonly locks: LockStore;
}

/** The Git LFS locking API: create, list, verify, unlock. */
export function mountLockRoutes(app: Hono<LfsEnv>, deps: LockRoutesDeps): void {
  const { auth, locks } = deps;
  const begin = async (c: LfsContext) => {
    checkAccept(c);
    const repo = parseRepo(c.req.param("repo") ?? "");
    const principal = await auth.authenticate(c.req.raw.headers, c.req.url);
    return { repo, principal };
  };
  const writer = (principal: Principal | undefined, repo: string, refName?: string | null): Principal => {
    auth.authorize(principal, repo, "write", refName ?? undefined);
    return principal as Principal;
  };

  app.post("/:repo{.+}/info/lfs/locks", async (c) => {
    const { repo, principal } = await begin(c);
    const body = parse(createSchema, await readJson(c, 64 * 1024));
    const me = writer(principal, repo, body.ref?.name);
    const lock = await locks.create(repo, body.path, me.name, body.ref?.name);
    return lfsJson(c, { lock }, 201);
  });

  app.get("/:repo{.+}/info/lfs/locks", async (c) => {
    const { repo, principal } = await begin(c);
    auth.authorize(principal, repo, "read");
    const q = new URL(c.req.url).searchParams;
    const page = await locks.list(repo, {
      limit: limitOf(q.get("limit")),
      ...(q.get("path") ? { path: q.get("path") as string } : {}),
      ...(q.get("id") ? { id: q.get("id") as string } : {}),
      ...(q.get("refspec") ? { refspec: q.get("refspec") as string } : {}),
      ...(q.get("cursor") ? { cursor: q.get("cursor") as string } : {}),
    });
    return lfsJson(c, { locks: page.locks, ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) });
  });

  app.post("/:repo{.+}/info/lfs/locks/verify", async (c) => {
    const { repo, principal } = await begin(c);
    const body = parse(verifySchema, await readJson(c, 64 * 1024));
    const me = writer(principal, repo, body.ref?.name);
    const page = await locks.list(repo, {
      limit: body.limit ?? 100,
      ...(body.cursor ? { cursor: body.cursor } : {}),
      ...(body.ref?.name ? { refspec: body.ref.name } : {}),
    });
    const ours = page.locks.filter((lock) => lock.owner.name === me.name);
    const theirs = page.locks.filter((lock) => lock.owner.name !== me.name);
    return lfsJson(c, { ours, theirs, ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) });
  });

  app.post("/:repo{.+}/info/lfs/locks/:id/unlock", async (c) => {
    const { repo, principal } = await begin(c);
    const body = parse(unlockSchema, await readJson(c, 64 * 1024));
    const me = writer(principal, repo, body.ref?.name);
    let admin = false;
    if (body.force) {
      try {
        auth.authorize(me, repo, "admin");
        admin = true;
      } catch (error) {
        if (!isWharfError(error, "PERMISSION_DENIED")) throw error;
      }
    }
    const lock = await locks.unlock(repo, c.req.param("id"), me.name, admin);
    return lfsJson(c, { lock });
  });
}
