import { cephStore } from "./ceph.ts";
import { gitLfsSuite } from "./git-lfs-suite.ts";

gitLfsSuite({
  name: "Ceph RGW, proxy",
  openStore: () => cephStore(),
  mode: "proxy",
  largeFileBytes: 32 * 1024 * 1024,
});
