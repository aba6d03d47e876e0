/** Why a connection was turned away, as `ftps_gateway_connections_refused_total{reason}` says it. */
export type RefusalReason = "limit" | "per_ip" | "shutdown";

/**
 * A front-end's connection limits (`FTP_MAX_CONNECTIONS`, `FTP_MAX_CONNECTIONS_PER_IP`): each
 * admitted connection holds a slot until its `release`, which gives it back once however often
 * it is called.
 */
export function createConnectionLimits(options: {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}) {
  const perIp = new Map<string, number>();
  let open = 0;
  return {
    admit(ip: string): { release: () => void } | { refused: RefusalReason } {
      if (open >= options.maxConnections) return { refused: "limit" };
      const fromIp = perIp.get(ip) ?? 0;
      if (fromIp >= options.maxConnectionsPerIp) return { refused: "per_ip" };
      open++;
      perIp.set(ip, fromIp + 1);
      let held = true;
      return {
        release: () => {
          if (!held) return;
          held = false;
          open--;
          const left = (perIp.get(ip) ?? 1) - 1;
          if (left <= 0) perIp.delete(ip);
          else perIp.set(ip, left);
        },
      };
    },
    open: () => open,
  };
}

export type ConnectionLimits = ReturnType<typeof createConnectionLimits>;
