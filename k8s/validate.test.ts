// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests are untyped JSON; the assertions are the type check.
/**
 * Renders k8s/base and k8s/overlays/production with the real kustomize and validates every
 * object offline: Kubernetes / Prometheus Operator schemas (strict: unknown fields fail),
 * cross-object references, and the deployment properties docs/spec.md §10 asks for.
 * Negative cases feed deliberately broken objects to the same validators.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { checkReferences } from "./tools/references.ts";
import { type K8sObject, kustomizeVersion, renderKustomization } from "./tools/render.ts";
import { formatIssues, validateObjects } from "./tools/schema.ts";

const here = import.meta.dirname;
/** Provisioned by the deploy pipeline (see overlays/production/kustomization.yaml). */
const OUT_OF_BAND = [
  "ConfigMap calldrop/calldrop-jwt-keys",
  "Secret calldrop/calldrop-turn",
  "Secret calldrop/calldrop-forward",
  "Secret calldrop-turn/coturn-auth",
];
/** The Cassandra StatefulSet lives in k8s/cassandra/ (merged separately). */
const CASSANDRA = ["Pods calldrop/app.kubernetes.io/name=cassandra"];

let base: K8sObject[] = [];
let production: K8sObject[] = [];
const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is rendered`);
  return o as K8sObject & { spec: any; data?: Record<string, string> };
};

before(() => {
  process.stdout.write(`# renderer: ${kustomizeVersion()}\n`);
  base = renderKustomization(join(here, "base"));
  production = renderKustomization(join(here, "overlays/production"));
});

describe("kustomize render", () => {
  it("renders base and production overlay", () => {
    assert.ok(base.length >= 20, `base has ${base.length} objects`);
    assert.ok(production.length >= 15, `production has ${production.length} objects`);
  });

  it("fails on a kustomization that references a missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "k8s-broken-"));
    try {
      writeFileSync(join(dir, "kustomization.yaml"), "resources:\n  - missing.yaml\n");
      assert.throws(() => renderKustomization(dir), /kustomize failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("schemas (strict)", () => {
  it("every base object is valid", async () => {
    const issues = await validateObjects(base);
    assert.equal(issues.length, 0, formatIssues(issues));
  });

  it("every production object is valid", async () => {
    const issues = await validateObjects(production);
    assert.equal(issues.length, 0, formatIssues(issues));
  });

  it("rejects broken core objects: unknown field, wrong type, missing required field, unknown kind", async () => {
    const dep = structuredClone(find(base, "StatefulSet", "calldrop-signaling"));
    const c = dep.spec.template.spec.containers[0];
    c.readinesProbe = c.readinessProbe; // typo'd field name
    c.ports[0].containerPort = "8080"; // string instead of integer
    delete dep.spec.selector; // required
    const svc = structuredClone(find(base, "Service", "calldrop-signaling"));
    svc.spec.ports[0].port = { value: 8080 }; // object instead of integer
    const unknownKind = { apiVersion: "apps/v1", kind: "Deploymnt", metadata: { name: "x" } } as K8sObject;
    const text = formatIssues(await validateObjects([dep, svc, unknownKind]));
    assert.match(text, /containers\/0\/readinesProbe: .*known properties/);
    assert.match(text, /containers\/0\/ports\/0\/containerPort: must be integer/);
    assert.match(text, /StatefulSet calldrop\/calldrop-signaling \/spec: must have required property selector/);
    assert.match(text, /Service calldrop\/calldrop-signaling \/spec\/ports\/0\/port: must be integer/);
    assert.match(text, /Deploymnt x: no schema for apps\/v1 Deploymnt/);
  });

  it("rejects broken custom resources against their CRD schemas", async () => {
    const rule = structuredClone(find(base, "PrometheusRule", "calldrop-slo"));
    rule.spec.groups[0].rules[0].for = "5 minutes"; // not a Prometheus duration
    rule.spec.groups[0].rules[1].exprr = "up"; // unknown field
    const sm = structuredClone(find(base, "ServiceMonitor", "calldrop-signaling"));
    sm.spec.endpoints[0].interval = 15; // must be a duration string
    const text = formatIssues(await validateObjects([rule, sm]));
    assert.match(text, /groups\/0\/rules\/0\/for: must match pattern/);
    assert.match(text, /groups\/0\/rules\/1\/exprr: .*known properties/);
    assert.match(text, /endpoints\/0\/interval: must be string/);
  });
});

describe("references", () => {
  it("base: everything referenced is rendered (Cassandra aside)", () => {
    assert.deepEqual(checkReferences(base, CASSANDRA), []);
  });

  it("production: only the documented out-of-band secrets are missing", () => {
    assert.deepEqual(checkReferences(production, OUT_OF_BAND), []);
    const keys = checkReferences(production).map((i) => i.key);
    for (const k of OUT_OF_BAND) assert.ok(keys.includes(k), `${k} is referenced and left to the pipeline`);
  });

  it("reports a renamed port, a missing secret key and a selector that selects nothing", () => {
    const objs = structuredClone(base);
    find(objs, "Service", "calldrop-signaling-peers").spec.ports[0].targetPort = "forwarding";
    const dep = find(objs, "StatefulSet", "calldrop-signaling");
    dep.spec.template.spec.containers[0].env.find(
      (e: any) => e.name === "CALLDROP_ICE__TURN_SECRET",
    ).valueFrom.secretKeyRef.key = "nope";
    find(objs, "PodDisruptionBudget", "etcd").spec.selector.matchLabels = { "app.kubernetes.io/name": "etc" };
    const keys = checkReferences(objs, CASSANDRA).map((i) => i.key);
    assert.deepEqual(keys.sort(), [
      "Pods calldrop/app.kubernetes.io/name=etc",
      "Secret calldrop/calldrop-turn#nope",
      "Service calldrop/calldrop-signaling-peers port forwarding",
    ]);
  });
});
