// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests are untyped JSON; the assertions are the type check.
/**
 * The production overlay's environment, as the signaling container would see it, goes through the
 * server's real config loader: a renamed, misspelt or invalid key in k8s/ fails here, not at deploy.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../src/config.ts";
import { renderKustomization } from "./tools/render.ts";

test("the production StatefulSet's environment is a valid server config", () => {
  const objs = renderKustomization(join(import.meta.dirname, "overlays/production")) as any[];
  const workload = objs.find((o) => o.kind === "StatefulSet" && o.metadata.name === "calldrop-signaling");
  const container = workload.spec.template.spec.containers.find((c: any) => c.name === "calldrop");
  const configMaps = new Map(objs.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o.data ?? {}]));
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef.name));
  for (const e of container.env ?? []) {
    // Secrets and pod fields are filled in by the kubelet; stand-ins of the right shape here.
    env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? "s".repeat(40) : e.valueFrom?.fieldRef ? "pod-0" : "");
  }
  const config = loadConfig(env);
  assert.equal(config.mode, "production");
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server.port, container.ports.find((p: any) => p.name === "http").containerPort);
  assert.equal(config.store.kind, "cassandra");
  assert.equal(config.store.cassandra?.consistency, "LOCAL_QUORUM");
  assert.equal(config.auth.jwksFile, "/etc/calldrop/jwt/jwks.json");
  assert.ok(config.ice.turnUrls.length > 0 && config.ice.turnSecret, "TURN URLs and secret");
  assert.equal(config.cluster?.internalPort, container.ports.find((p: any) => p.name === "forward").containerPort);
  assert.deepEqual(config.cluster?.etcdEndpoints, ["etcd-0.etcd:2379", "etcd-1.etcd:2379", "etcd-2.etcd:2379"]);
  // The outboxes, as the loaded config places them, are on the pod's own volume.
  const data = container.volumeMounts.find((m: any) => m.name === "data");
  assert.ok(workload.spec.volumeClaimTemplates.some((c: any) => c.metadata.name === "data"));
  assert.equal(dirname(config.store.outboxPath), data.mountPath);
  assert.equal(dirname(config.store.sqlitePath), data.mountPath);
});
