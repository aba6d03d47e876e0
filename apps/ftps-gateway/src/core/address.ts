import { isIPv4 } from "node:net";

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function plainAddress(address: string | undefined): string {
  if (!address) return "";
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
