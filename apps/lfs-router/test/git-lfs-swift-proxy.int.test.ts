import { swiftS3Env } from "@wharf/test-kit";
import { cephStore } from "./ceph.ts";
import { gitLfsSuite } from "./git-lfs-suite.ts";

// Swift's s3api has no conditional writes: the router must serve LFS there and answer 404 to the
// locking API, which git-lfs reads as "no locking" (issue 21 §3).
gitLfsSuite({
  name: "Swift s3api, proxy",
  openStore: () => cephStore("timone/", {}, swiftS3Env()),
  mode: "proxy",
  largeFileBytes: 8 * 1024 * 1024,
  lean: true,
});
