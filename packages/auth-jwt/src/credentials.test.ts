import { describe, expect, it } from "vitest";
import { type CredentialRequest, type CredentialSource, extractCredentials } from "./credentials.ts";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const all: CredentialSource[] = ["bearer", "basic", "query:jwt", "form:jwt", "header:Auth-Token"];

function request(headers: Record<string, string> = {}, url = "http://h/x", form?: CredentialRequest["form"]) {
  return { headers: new Headers(headers), url, form };
}

describe("extractCredentials", () => {
  it.each([
    [
      "a Bearer token",
      request({ authorization: "Bearer abc.def.ghi" }),
      { source: "bearer", token: "abc.def.ghi" },
    ],
    ["a lower-case scheme", request({ authorization: "bearer abc" }), { source: "bearer", token: "abc" }],
    [
      "Basic user:token",
      request({ authorization: `Basic ${b64("bob:abc.def.ghi")}` }),
      { source: "basic", token: "abc.def.ghi", username: "bob" },
    ],
    [
      "Basic with a colon in the password (timone refused it)",
      request({ authorization: `Basic ${b64("bob:a:b")}` }),
      { source: "basic", token: "a:b", username: "bob" },
    ],
    [
      "Basic with an empty user",
      request({ authorization: `Basic ${b64(":tok")}` }),
      { source: "basic", token: "tok", username: "" },
    ],
    ["a jwt query parameter", request({}, "http://h/x?jwt=tok"), { source: "query:jwt", token: "tok" }],
    ["a relative URL", request({}, "/x?jwt=tok"), { source: "query:jwt", token: "tok" }],
    ["a jwt form field", request({}, "http://h/x", { jwt: "tok" }), { source: "form:jwt", token: "tok" }],
    [
      "a FormData field",
      request(
        {},
        "http://h/x",
        (() => {
          const form = new FormData();
          form.set("jwt", "tok");
          return form;
        })(),
      ),
      { source: "form:jwt", token: "tok" },
    ],
    ["an Auth-Token header", request({ "auth-token": "tok" }), { source: "header:Auth-Token", token: "tok" }],
  ])("finds %s", (_name, req, expected) => {
    expect(extractCredentials(req, all)).toEqual(expected);
  });

  it("returns undefined when no source holds a credential", () => {
    expect(extractCredentials(request({}, "http://h/x?jwt="), all)).toBeUndefined();
  });

  it("tries the sources in the order given", () => {
    const req = request({ "auth-token": "from-header" }, "http://h/x?jwt=from-query");
    expect(extractCredentials(req, ["query:jwt", "header:Auth-Token"])?.token).toBe("from-query");
    expect(extractCredentials(req, ["header:Auth-Token", "query:jwt"])?.token).toBe("from-header");
  });

  it("ignores places not listed in sources", () => {
    expect(
      extractCredentials(request({ authorization: "Bearer abc" }, "http://h/?jwt=q"), ["header:Auth-Token"]),
    ).toBe(undefined);
  });

  it.each([
    ["Bearer without a token", { authorization: "Bearer" }],
    ["Bearer with spaces in the token", { authorization: "Bearer a b" }],
    ["Basic that is not base64", { authorization: "Basic !!!" }],
    ["Basic without a colon", { authorization: `Basic ${b64("bob")}` }],
    ["Basic with an empty password", { authorization: `Basic ${b64("bob:")}` }],
    [
      "Basic that is not UTF-8",
      { authorization: `Basic ${Buffer.from([0x62, 0x3a, 0xff]).toString("base64")}` },
    ],
    ["an empty Authorization", { authorization: "" }],
  ])("refuses %s as malformed with UNAUTHENTICATED", (_name, headers) => {
    expect(() => extractCredentials(request(headers), all)).toThrow(
      expect.objectContaining({ code: "UNAUTHENTICATED", details: { reason: "malformed" } }),
    );
  });

  it("refuses an Authorization scheme that is not accepted instead of ignoring it", () => {
    expect(() => extractCredentials(request({ authorization: `Basic ${b64("u:p")}` }), ["bearer"])).toThrow(
      expect.objectContaining({ code: "UNAUTHENTICATED", details: { reason: "unsupported_scheme" } }),
    );
    expect(() =>
      extractCredentials(request({ authorization: "Negotiate abc" }), ["bearer", "basic"]),
    ).toThrow(
      expect.objectContaining({ code: "UNAUTHENTICATED", details: { reason: "unsupported_scheme" } }),
    );
  });

  it("refuses a file upload where a form token is expected", () => {
    const form = new FormData();
    form.set("jwt", new Blob(["x"]), "x.txt");
    expect(() => extractCredentials(request({}, "http://h/", form), ["form:jwt"])).toThrow(
      expect.objectContaining({ code: "UNAUTHENTICATED" }),
    );
  });
});
