import { testDriver } from "../src/conformance/index.ts";
import { createMemoryDriver } from "../src/drivers/memory/memory.ts";

testDriver({ name: "memory", create: async () => createMemoryDriver(), largeObjectBytes: 8 * 1024 * 1024 });
