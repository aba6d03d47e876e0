import { Counter, Gauge, type Registry } from "prom-client";

/** The front-end a series counts: FTP/FTPS control connections or SSH (SFTP) connections. */
export type Protocol = "ftp" | "sftp";

/**
 * The gateway's own Prometheus series, registered next to http-kit's process metrics. The names are
 * the FTP-only gateway's; each series carries `protocol` ("ftp" | "sftp"), so dashboards that sum
 * over it keep their figures and can split them.
 */
export function createGatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    sessions: new Gauge({
      name: "ftps_gateway_sessions",
      help: "Open sessions (FTP control connections, SSH connections), by protocol",
      labelNames: ["protocol"] as const,
      registers,
    }),
    sessionsTotal: new Counter({
      name: "ftps_gateway_sessions_total",
      help: "Sessions accepted since start, by protocol",
      labelNames: ["protocol"] as const,
      registers,
    }),
    connectionsRefused: new Counter({
      name: "ftps_gateway_connections_refused_total",
      help: "Connections refused by the connection limits or the shutdown, by protocol and reason",
      labelNames: ["protocol", "reason"] as const,
      registers,
    }),
    logins: new Counter({
      name: "ftps_gateway_logins_total",
      help: "Login attempts by protocol and result (success, failure, locked)",
      labelNames: ["protocol", "result"] as const,
      registers,
    }),
    lockouts: new Counter({
      name: "ftps_gateway_login_lockouts_total",
      help: "Login lockouts started, by protocol and by what the failures were counted against (address, user)",
      labelNames: ["protocol", "by"] as const,
      registers,
    }),
    transfers: new Counter({
      name: "ftps_gateway_transfers_total",
      help: "Transfers by protocol, direction and outcome (ok, aborted, broken, failed)",
      labelNames: ["protocol", "direction", "outcome"] as const,
      registers,
    }),
    bytes: new Counter({
      name: "ftps_gateway_transfer_bytes_total",
      help: "File and listing bytes moved, by protocol and direction",
      labelNames: ["protocol", "direction"] as const,
      registers,
    }),
    errors: new Counter({
      name: "ftps_gateway_errors_total",
      help: "Requests answered with an error (FTP 4xx/5xx replies of commands, SFTP error statuses), by protocol and error code",
      labelNames: ["protocol", "code"] as const,
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

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
