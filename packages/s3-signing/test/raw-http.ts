import { request } from "node:http";

export interface RawResponse {
  readonly status: number;
  /** The S3 error `<Code>`, when the body carried one. */
  readonly code: string | undefined;
  readonly body: string;
}

/**
 * Sends a request with the URL's path exactly as written (fetch would normalise `./` and `../`
 * segments and break the signature), and reads the S3 error code from the answer.
 */
export function rawRequest(
  method: string,
  url: string,
  headers: Readonly<Record<string, string>> = {},
  body?: string | Uint8Array,
): Promise<RawResponse> {
  const { host } = new URL(url);
  const [hostname, port] = host.split(":");
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  return new Promise((resolve, reject) => {
    const req = request({ method, hostname, port: Number(port ?? 80), path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], body: text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
