/**
 * The deployment files under deploy/ as a platform team uses them: the Kustomize bases render and
 * validate against the Kubernetes schemas (offline), the systemd units pass `systemd-analyze verify`,
 * and every setting they set is one the app documents.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadAll } from "js-yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const k8sDir = join(root, "deploy/k8s");
const serverApps = ["lfs-router", "bitstore", "ftps-gateway", "registry-usage"];

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

function render(app: string): K8sObject[] {
  const text = execFileSync("kubectl", ["kustomize", join(k8sDir, app)], { encoding: "utf8" });
  return loadAll(text) as K8sObject[];
}

/** The setting names an env file sets. */
function envKeys(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /^[A-Z]/.test(line))
    .map((line) => line.slice(0, line.indexOf("=")));
}

/**
 * Settings an app documents in its README: indexed names (`FTP_USERS__1__X`) by their pattern or
 * their `__X` suffix; registry-usage's `REGISTRY_USAGE_<SECTION>_<KEY>` by the INI key it sets.
 */
function documented(app: string): (key: string) => boolean {
  const readme = readFileSync(join(root, "apps", app, "README.md"), "utf8");
  const iniKey = (key: string) =>
    /^REGISTRY_USAGE_(GENERAL|LDAP|REGISTRY|JWT|VISIBILITY|NOTIFICATIONS)_(\w+)$/
      .exec(key)?.[2]
      ?.toLowerCase();
  return (key) => {
    const ini = iniKey(key);
    if (ini) return readme.includes(ini);
    const suffix = /__\d+__(\w+)$/.exec(key)?.[1];
    return readme.includes(key) || (suffix !== undefined && readme.includes(`__${suffix}`));
  };
}

type PodSpec = {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  containers: Array<{
    readinessProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
    resources: { requests?: Record<string, string>; limits?: Record<string, string> };
    securityContext: Record<string, unknown>;
    envFrom: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  }>;
};

describe.each(serverApps)("deploy/k8s/%s", (app) => {
  const objects = render(app);
  const workload = objects.find((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
  const template = workload?.spec?.template as {
    metadata: { labels: Record<string, string> };
    spec: PodSpec;
  };

  it("renders objects that validate against the Kubernetes schemas", () => {
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const object of objects) {
      const Model = models[`${object.apiVersion}/${object.kind}`];
      // kustomize folds long base64 values over lines, which the API server's decoder ignores.
      if (object.kind === "Secret")
        for (const [k, v] of Object.entries(object.data ?? {})) object.data![k] = v.replaceAll("\n", "");
      expect(Model, `${object.apiVersion} ${object.kind} has a schema here`).toBeDefined();
      expect(
        () => new Model!(object as never).validate(),
        `${object.kind} ${object.metadata.name}`,
      ).not.toThrow();
    }
  });

  it("runs two replicas with distinct readiness and liveness probes, resources and a restricted context", () => {
    expect(workload?.spec?.replicas).toBe(2);
    const pod = template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const container of pod.containers) {
      expect(container.readinessProbe.httpGet.path).toBe("/healthz");
      expect(container.livenessProbe.httpGet.path).toBe("/livez");
      expect(container.resources.requests?.cpu).toBeTruthy();
      expect(container.resources.limits?.memory).toBeTruthy();
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("takes its config from a ConfigMap and its secrets from a Secret that the render contains", () => {
    const pod = template.spec;
    const refs = pod.containers.flatMap((c) => c.envFrom);
    const configMap = refs.find((r) => r.configMapRef)?.configMapRef?.name;
    const secret = refs.find((r) => r.secretRef)?.secretRef?.name;
    expect(objects.some((o) => o.kind === "ConfigMap" && o.metadata.name === configMap)).toBe(true);
    expect(objects.some((o) => o.kind === "Secret" && o.metadata.name === secret)).toBe(true);
  });

  it("selects its own pods from the Services and the PodDisruptionBudget", () => {
    const podLabels = template.metadata.labels;
    const selectors = objects
      .filter((o) => o.kind === "Service" || o.kind === "PodDisruptionBudget")
      .map((o) => {
        const selector = o.spec?.selector as Record<string, unknown> | undefined;
        return o.kind === "Service" ? selector : selector?.matchLabels;
      });
    expect(selectors.length).toBeGreaterThanOrEqual(2);
    for (const selector of selectors as Array<Record<string, string>>) {
      const own = Object.entries(selector).filter(([k]) => k.startsWith("app.kubernetes.io/"));
      expect(own.length).toBeGreaterThan(0);
      for (const [k, v] of own) expect(podLabels[k]).toBe(v);
    }
  });

  it("pins the image of the app's current version", () => {
    const { version } = JSON.parse(readFileSync(join(root, "apps", app, "package.json"), "utf8")) as {
      version: string;
    };
    const images = objects.flatMap((o) =>
      o.kind === "Deployment" || o.kind === "StatefulSet"
        ? (
            (o.spec?.template as { spec: { containers: Array<{ image: string }> } } | undefined)?.spec
              .containers ?? []
          ).map((c) => c.image)
        : [],
    );
    expect(images).toEqual([`wharf/${app}:${version}`]);
  });

  it("sets only settings the app documents", () => {
    const known = documented(app);
    const keys = [...envKeys(join(k8sDir, app, "config.env")), ...envKeys(join(k8sDir, app, "secret.env"))];
    expect(keys.length).toBeGreaterThan(3);
    expect(keys.filter((key) => !/^AWS_/.test(key) && !known(key))).toEqual([]);
  });
});

describe("deploy/k8s/ftps-gateway passive ports", () => {
  it("gives each replica a Service with its control port and every passive port it announces", () => {
    const objects = render("ftps-gateway");
    const config = objects.find((o) => o.kind === "ConfigMap")?.data ?? {};
    const first = Number(config.FTP_DATA_PORTS_FIRST);
    const count = Number(config.FTP_DATA_PORTS_COUNT);
    for (const replica of [0, 1]) {
      const service = objects.find(
        (o) => o.kind === "Service" && o.metadata.name === `ftps-gateway-${replica}`,
      );
      expect(service?.spec?.selector).toMatchObject({
        "statefulset.kubernetes.io/pod-name": `ftps-gateway-${replica}`,
      });
      const ports = ((service?.spec?.ports ?? []) as Array<{ port: number }>).map((p) => p.port);
      for (let port = first; port < first + count; port++) expect(ports).toContain(port);
    }
  });
});

describe("deploy/systemd", () => {
  const units = readdirSync(join(root, "deploy/systemd")).filter((f) => f.endsWith(".service"));

  it("has a unit per server app that systemd-analyze verifies", () => {
    expect(units.sort()).toEqual(serverApps.map((a) => `wharf-${a}.service`).sort());
    for (const unit of units)
      execFileSync("systemd-analyze", ["verify", join(root, "deploy/systemd", unit)], { stdio: "pipe" });
  });

  it.each(serverApps)("hardens wharf-%s: dedicated user, no new privileges, read-only system", (app) => {
    const text = readFileSync(join(root, "deploy/systemd", `wharf-${app}.service`), "utf8");
    for (const line of [
      "DynamicUser=yes",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "CapabilityBoundingSet=",
      "RestartPreventExitStatus=2",
    ])
      expect(text.split("\n")).toContain(line);
    const exposure = execFileSync(
      "systemd-analyze",
      ["security", "--offline=yes", join(root, "deploy/systemd", `wharf-${app}.service`)],
      { encoding: "utf8" },
    );
    const level = Number(/Overall exposure level for .*: ([\d.]+)/.exec(exposure)?.[1]);
    expect(level).toBeLessThan(2.5);
  });
});
