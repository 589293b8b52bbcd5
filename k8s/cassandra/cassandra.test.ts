// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests are untyped JSON; the assertions are the type check.
/**
 * k8s/cassandra renders with the real kustomize, validates strictly against the Kubernetes
 * schemas, its references resolve, and it has the properties the call store relies on:
 * 3 nodes per DC spread over hosts and zones, one node down at most, NetworkTopologyStrategy
 * with 3 replicas per DC in the migrate Job, the Job's CQL reachable through the NetworkPolicy.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { checkReferences } from "../tools/references.ts";
import { type K8sObject, renderKustomization } from "../tools/render.ts";
import { formatIssues, validateObjects } from "../tools/schema.ts";

let objects: K8sObject[] = [];
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is rendered`);
  return o as K8sObject & { spec: any };
};
const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));

before(() => {
  objects = renderKustomization(import.meta.dirname);
});

test("every object validates strictly and all references resolve", async () => {
  assert.equal(formatIssues(await validateObjects(objects)), "");
  // Signaling pods come from k8s/base; the checker does not count a Job's pods as selectable.
  const external = ["calldrop-signaling", "calldrop-migrate"].map((n) => `Pods calldrop/app.kubernetes.io/name=${n}`);
  assert.deepEqual(checkReferences(objects, external), []);
  assert.ok(objects.every((o) => o.metadata.namespace === "calldrop"));
});

test("one DC: 3 nodes, one per host, spread over zones, at most one down, data kept", () => {
  const sts = find("StatefulSet", "cassandra");
  assert.equal(sts.spec.replicas, 3);
  assert.equal(sts.spec.serviceName, "cassandra");
  assert.equal(find("Service", "cassandra").spec.clusterIP, "None");
  const pod = sts.spec.template.spec;
  assert.equal(
    pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
    "kubernetes.io/hostname",
  );
  assert.equal(pod.topologySpreadConstraints[0].topologyKey, "topology.kubernetes.io/zone");
  assert.equal(find("PodDisruptionBudget", "cassandra").spec.maxUnavailable, 1);
  assert.equal(sts.spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Retain");
  const env = envOf(pod.containers[0]);
  assert.equal(env.CASSANDRA_ENDPOINT_SNITCH, "GossipingPropertyFileSnitch");
  assert.equal(env.CASSANDRA_DC, "dc1");
  assert.ok(pod.containers[0].lifecycle.preStop.exec.command.join(" ").includes("nodetool drain"));
});

test("the migrate Job creates the keyspace with 3 replicas in each DC, and may reach CQL", () => {
  const job = find("Job", "calldrop-migrate");
  const container = job.spec.template.spec.containers[0];
  const env = envOf(container);
  assert.deepEqual(JSON.parse(env.CALLDROP_MIGRATE_REPLICATION), {
    class: "NetworkTopologyStrategy",
    dc1: 3,
    dc2: 3,
  });
  assert.equal(env.CALLDROP_MIGRATE_LOCAL_DC, "dc1");
  const policy = find("NetworkPolicy", "cassandra");
  const cqlFrom = policy.spec.ingress
    .filter((rule: any) => rule.ports.some((p: any) => p.port === 9042))
    .flatMap((rule: any) => rule.from.map((f: any) => f.podSelector.matchLabels["app.kubernetes.io/name"]));
  assert.deepEqual(cqlFrom.sort(), ["calldrop-migrate", "calldrop-signaling"]);
  assert.equal(job.spec.template.metadata.labels["app.kubernetes.io/name"], "calldrop-migrate");
});
