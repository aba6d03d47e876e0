import type { DriverRegistration } from "../registration.ts";

/** `memory://`: a new, empty store in this process on every open (tests). */
export interface MemoryConfig {
  readonly kind: "memory";
}

export const memoryRegistration: DriverRegistration<MemoryConfig> = {
  kind: "memory",
  schemes: ["memory"],
  options: [],
  credentials: [],
  location: "process",
  capabilities: {
    rangeRead: true,
    conditionalWrite: true,
    presign: false,
    presignedPost: false,
    multipart: true,
    rename: true,
    folderMarkers: true,
    md5Etags: true,
  },
  parse: () => ({ kind: "memory" }),
  describe: () => "memory",
  async open() {
    const { createMemoryDriver } = await import("./memory.ts");
    return createMemoryDriver();
  },
};
