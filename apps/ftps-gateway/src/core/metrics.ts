import { Counter, Gauge, type Registry } from "prom-client";

/** The gateway's own Prometheus series, registered next to http-kit's process metrics. */
export function createFtpMetrics(registry: Registry) {
  const registers = [registry];
  return {
    sessions: new Gauge({ name: "ftps_gateway_sessions", help: "Open control connections", registers }),
    connectionsRefused: new Counter({
      name: "ftps_gateway_connections_refused_total",
      help: "Control connections refused by the connection limits, by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    logins: new Counter({
      name: "ftps_gateway_logins_total",
      help: "PASS attempts by result (success, failure, locked)",
      labelNames: ["result"] as const,
      registers,
    }),
    lockouts: new Counter({
      name: "ftps_gateway_login_lockouts_total",
      help: "Login lockouts started, by what the failures were counted against (address, user)",
      labelNames: ["by"] as const,
      registers,
    }),
    transfers: new Counter({
      name: "ftps_gateway_transfers_total",
      help: "Data transfers by direction and outcome (ok, aborted, broken, failed)",
      labelNames: ["direction", "outcome"] as const,
      registers,
    }),
    bytes: new Counter({
      name: "ftps_gateway_transfer_bytes_total",
      help: "Bytes moved on data connections, by direction",
      labelNames: ["direction"] as const,
      registers,
    }),
    tlsDataSessions: new Counter({
      name: "ftps_gateway_tls_data_connections_total",
      help: "TLS data connections, by whether they resumed the control connection's session",
      labelNames: ["reused"] as const,
      registers,
    }),
    foreignDataConnections: new Counter({
      name: "ftps_gateway_foreign_data_connections_total",
      help: "Data connections refused because they came from another address than the control connection",
      registers,
    }),
  };
}

export type FtpMetrics = ReturnType<typeof createFtpMetrics>;
