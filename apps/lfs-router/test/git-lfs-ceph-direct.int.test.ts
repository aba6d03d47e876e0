import { cephStore } from "./ceph.ts";
import { gitLfsSuite } from "./git-lfs-suite.ts";

gitLfsSuite({
  name: "Ceph RGW, direct",
  openStore: () => cephStore(),
  mode: "direct",
  largeFileBytes: 200 * 1024 * 1024,
});
