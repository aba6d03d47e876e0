import { describe, expect, it } from "vitest";
import { type Credentials, createPresigner } from "../src/index.ts";
import { locations, ourInput, type ResolvedCase, sdkClient, sdkPresign, urlCases } from "./url-cases.ts";

const credentials: Credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = new Date("2024-05-06T07:08:09.678Z");

describe("presignUrl matches @aws-sdk/s3-request-presigner byte for byte", () => {
  for (const location of locations) {
    describe(location.name, () => {
      it.each(urlCases.map((c) => [c.name, c] as const))("%s", async (_name, urlCase) => {
        const c: ResolvedCase = { bucket: "bkt", ...urlCase, ...location };
        const expected = await sdkPresign(sdkClient(c, credentials), c, now);
        const presigner = createPresigner({
          credentials: {
            ...credentials,
            ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }),
          },
          region: c.region,
        });
        expect(presigner.presignUrl(ourInput(c, now))).toBe(expected);
      });
    });
  }
});
