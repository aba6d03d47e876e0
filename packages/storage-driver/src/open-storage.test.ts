import { describe, expect, it } from "vitest";
import { openStorage, parseStorageUrl } from "./open-storage.ts";

describe("parseStorageUrl", () => {
  it("reads a file URL and a relative path as fs roots", () => {
    expect(parseStorageUrl("file:///srv/data")).toEqual({ kind: "fs", root: "/srv/data", fsync: true });
    expect(parseStorageUrl("file:///srv/my%20data?fsync=false")).toEqual({
      kind: "fs",
      root: "/srv/my data",
      fsync: false,
    });
    expect(parseStorageUrl("./data", { cwd: "/app" })).toEqual({
      kind: "fs",
      root: "/app/data",
      fsync: true,
    });
  });

  it("reads bucket, prefix and options from an s3 URL", () => {
    expect(
      parseStorageUrl(
        "s3://my-bucket/apps/lfs/?endpoint=http://127.0.0.1:7480&region=us-east-1&partSize=8388608",
      ),
    ).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "apps/lfs/",
      endpoint: "http://127.0.0.1:7480",
      region: "us-east-1",
      forcePathStyle: true,
      partSize: 8388608,
    });
    expect(parseStorageUrl("s3://my-bucket")).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "",
      forcePathStyle: false,
    });
  });

  it("reads the capabilities an s3 URL states, and refuses bad values", () => {
    expect(
      parseStorageUrl(
        "s3://my-bucket?conditionalWrite=false&presignedPost=true&maxParts=1000&maxSockets=512",
      ),
    ).toMatchObject({ conditionalWrite: false, presignedPost: true, maxParts: 1000, maxSockets: 512 });
    expect(parseStorageUrl("s3://my-bucket")).not.toHaveProperty("conditionalWrite");
    expect(() => parseStorageUrl("s3://my-bucket?conditionalWrite=maybe")).toThrow(/conditionalWrite/);
    expect(() => parseStorageUrl("s3://my-bucket?maxParts=20000")).toThrow(/maxParts/);
  });

  it("reads account, container, prefix and options from an azure URL", () => {
    expect(
      parseStorageUrl(
        "azure://devstoreaccount1/lfs-data/apps/lfs/?endpoint=http://127.0.0.1:10000/devstoreaccount1&blockSize=4194304&concurrency=2",
      ),
    ).toEqual({
      kind: "azure",
      account: "devstoreaccount1",
      container: "lfs-data",
      prefix: "apps/lfs/",
      endpoint: "http://127.0.0.1:10000/devstoreaccount1",
      blockSize: 4194304,
      concurrency: 2,
    });
    expect(parseStorageUrl("azure://myaccount/lfs")).toEqual({
      kind: "azure",
      account: "myaccount",
      container: "lfs",
      prefix: "",
    });
  });

  it.each([
    "azure://myaccount",
    "azure://myaccount/ab",
    "azure://myaccount/Upper",
    "azure://myaccount/lfs/no-trailing-slash",
    "azure://my_account/lfs",
    "azure://myaccount/lfs?endpoint=ftp://x",
    "azure://myaccount/lfs?blockSize=1000",
    "azure://myaccount/lfs?sas=x",
    "s3://my-bucket/no-trailing-slash",
    "s3://my-bucket/?colour=blue",
    "s3://key:secret@my-bucket/",
    "s3://my-bucket/?forcePathStyle=maybe",
    "s3:///",
    "ftp://host/x",
    "file://remote-host/x",
    "",
  ])("rejects %j with INVALID_ARGUMENT", (url) => {
    expect(() => parseStorageUrl(url)).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("openStorage", () => {
  it("validates keys before the driver sees them", async () => {
    const storage = await openStorage("memory://");
    await expect(storage.put("../escape", "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(storage.list({ prefix: "/abs" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await storage.put("ok", "x");
    expect((await storage.head("ok")).size).toBe(1);
  });
});
