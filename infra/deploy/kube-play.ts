/**
 * Adapts a `kubectl kustomize` render of deploy/k8s/<app> to what Debian's podman 4.3 `kube play`
 * can run rootless on this VM, changing nothing the test means to check (replicas, the pod and
 * container security contexts, probes, config from the ConfigMap, secrets from the Secret):
 *
 * - Secrets become podman secrets, whose data podman 4.3 reads as a JSON map of base64 values;
 * - Services and PodDisruptionBudgets are dropped (no cluster networking to give them meaning), and
 *   so are the containers' `ports`: podman publishes every containerPort on the host, so two
 *   replicas would collide; probes get the port number instead of its name;
 * - resource requests and limits are dropped: rootless podman cannot join a memory cgroup here;
 * - `settings` override ConfigMap values (a local-disk store in the pod's /tmp, no outside service).
 */
import { writeFileSync } from "node:fs";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface Container {
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: unknown;
  readinessProbe?: { httpGet: { port: string | number } };
  livenessProbe?: { httpGet: { port: string | number } };
}

/** Writes `<file>` (the manifest) and `<file>.secret.<name>.json` per Secret, for kube-play.sh. */
export function writePodmanManifest(
  objects: K8sObject[],
  file: string,
  settings: Record<string, string>,
): void {
  const kept: K8sObject[] = [];
  for (const object of objects) {
    if (object.kind === "Secret") {
      const data = Object.fromEntries(
        Object.entries(object.data ?? {}).map(([k, v]) => [k, v.replaceAll("\n", "")]),
      );
      writeFileSync(`${file}.secret.${object.metadata.name}.json`, JSON.stringify(data));
    } else if (object.kind === "ConfigMap") {
      kept.push({ ...object, data: { ...object.data, ...settings } });
    } else if (object.kind === "Deployment" || object.kind === "StatefulSet") {
      const template = object.spec?.template as { spec: { containers: Container[] } } | undefined;
      for (const container of template?.spec.containers ?? []) {
        const byName = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
        for (const probe of [container.readinessProbe, container.livenessProbe])
          if (probe && typeof probe.httpGet.port === "string")
            probe.httpGet.port = byName.get(probe.httpGet.port)!;
        delete container.ports;
        delete container.resources;
      }
      kept.push(object);
    }
  }
  writeFileSync(file, kept.map((o) => JSON.stringify(o)).join("\n---\n"));
}
