import { lookup } from "node:dns/promises";
import { BlockList, isIPv4 } from "node:net";
import type { CidrDomain } from "../core/config.ts";

/**
 * The address announced in PASV: aioftps3's CIDR → domain map (first match, resolved to IPv4 at each
 * PASV), else the control connection's local address.
 */
export function createPassiveAddressResolver(map: readonly CidrDomain[]) {
  const rules = map.map(({ cidr, domain }) => {
    const [network, bits] = cidr.split("/") as [string, string];
    const list = new BlockList();
    const family = isIPv4(network) ? "ipv4" : "ipv6";
    list.addSubnet(network, Number(bits), family);
    return { list, family, domain };
  });
  return async (peer: string, local: string): Promise<string> => {
    const rule = rules.find(
      (r) => r.family === (isIPv4(peer) ? "ipv4" : "ipv6") && r.list.check(peer, r.family),
    );
    if (!rule) return local;
    if (isIPv4(rule.domain)) return rule.domain;
    return (await lookup(rule.domain, { family: 4 })).address;
  };
}
