/**
 * Cross-object checks that schemas cannot make: every name an object points at (ConfigMap,
 * Secret and key, ServiceAccount, volume, named port, Service of a StatefulSet, HPA target)
 * exists in the same render, and every selector (Service, PDB, NetworkPolicy peers,
 * ServiceMonitor, PodMonitor) selects something. References to objects provisioned elsewhere
 * are allowed only when listed in `external` by their key (see {@link ReferenceIssue.key}).
 */
import { describe, type K8sObject } from "./render.ts";

/** A dangling reference. `key` names the missing target, e.g. "Secret calldrop/calldrop-turn". */
export interface ReferenceIssue {
  object: string;
  key: string;
  message: string;
}

type Json = Record<string, unknown>;
type Labels = Record<string, string>;
interface Port {
  name?: string;
  containerPort?: number;
  port?: number;
}
interface Container {
  name: string;
  ports?: Port[];
  env?: { valueFrom?: { configMapKeyRef?: Json; secretKeyRef?: Json } }[];
  envFrom?: { configMapRef?: Json; secretRef?: Json }[];
  volumeMounts?: { name: string }[];
  [probe: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: Json; secret?: Json }[];
  serviceAccountName?: string;
}
interface Workload {
  o: K8sObject;
  ns: string;
  labels: Labels;
  pod: PodSpec;
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const ns = (o: K8sObject) => o.metadata.namespace ?? "default";
const matches = (selector: Labels | undefined, labels: Labels) =>
  selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
const selectorText = (s: Labels | undefined) =>
  Object.entries(s ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Finds dangling references in a rendered set of objects, minus the `external` keys. */
export function checkReferences(objects: K8sObject[], external: readonly string[] = []): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const byKey = new Map(objects.map((o) => [`${o.kind} ${ns(o)}/${o.metadata.name}`, o]));
  const workloads: Workload[] = objects
    .filter((o) => WORKLOADS.has(o.kind))
    .map((o) => {
      const t = (o.spec as Json).template as { metadata?: { labels?: Labels }; spec: PodSpec };
      return { o, ns: ns(o), labels: t.metadata?.labels ?? {}, pod: t.spec };
    });
  const report = (o: K8sObject, key: string, message: string) => {
    if (!external.includes(key)) issues.push({ object: describe(o), key, message });
  };
  const need = (o: K8sObject, kind: string, name: unknown, key?: unknown, optional?: unknown) => {
    if (optional === true || typeof name !== "string") return;
    const target = byKey.get(`${kind} ${ns(o)}/${name}`);
    if (!target) return report(o, `${kind} ${ns(o)}/${name}`, `refers to missing ${kind} ${name}`);
    const data = { ...(target.data as Json), ...(target.stringData as Json) };
    if (typeof key === "string" && !(key in data)) report(o, `${kind} ${ns(o)}/${name}#${key}`, `key ${key} missing`);
  };
  const podsFor = (space: string, selector: Labels | undefined) =>
    workloads.filter((w) => w.ns === space && matches(selector, w.labels));
  const portNames = (ws: Workload[]) =>
    new Set(ws.flatMap((w) => w.pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name))));

  for (const w of workloads) {
    const sel = ((w.o.spec as Json).selector as { matchLabels?: Labels }).matchLabels;
    if (!matches(sel, w.labels)) report(w.o, `${describe(w.o)} selector`, "selector does not match its pod template");
    if (w.pod.serviceAccountName) need(w.o, "ServiceAccount", w.pod.serviceAccountName);
    for (const v of w.pod.volumes ?? []) {
      need(w.o, "ConfigMap", v.configMap?.name, undefined, v.configMap?.optional);
      need(w.o, "Secret", v.secret?.secretName, undefined, v.secret?.optional);
    }
    const claims = ((w.o.spec as Json).volumeClaimTemplates ?? []) as { metadata: { name: string } }[];
    const volumes = new Set([...(w.pod.volumes ?? []).map((v) => v.name), ...claims.map((c) => c.metadata.name)]);
    for (const c of [...w.pod.containers, ...(w.pod.initContainers ?? [])]) {
      for (const e of c.envFrom ?? []) {
        need(w.o, "ConfigMap", e.configMapRef?.name, undefined, e.configMapRef?.optional);
        need(w.o, "Secret", e.secretRef?.name, undefined, e.secretRef?.optional);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const s = e.valueFrom?.secretKeyRef;
        if (cm) need(w.o, "ConfigMap", cm.name, cm.key, cm.optional);
        if (s) need(w.o, "Secret", s.name, s.key, s.optional);
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) report(w.o, `${describe(w.o)} volume ${m.name}`, `${c.name} mounts unknown volume`);
      }
      const named = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const p = c[probe] as { httpGet?: { port: unknown }; tcpSocket?: { port: unknown } } | undefined;
        const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
        if (typeof port === "string" && !named.has(port))
          report(w.o, `${describe(w.o)} port ${port}`, `${probe} uses unknown port`);
      }
    }
    if (w.o.kind === "StatefulSet") {
      const svc = byKey.get(`Service ${w.ns}/${(w.o.spec as Json).serviceName}`);
      if ((svc?.spec as Json | undefined)?.clusterIP !== "None") {
        report(w.o, `${describe(w.o)} serviceName`, "serviceName must be a headless Service in the render");
      }
    }
  }

  for (const o of objects) {
    const spec = (o.spec ?? {}) as Json;
    if (o.kind === "Service") {
      const pods = podsFor(ns(o), spec.selector as Labels);
      if (pods.length === 0) report(o, `Pods ${ns(o)}/${selectorText(spec.selector as Labels)}`, "selects no pods");
      const names = portNames(pods);
      for (const p of (spec.ports ?? []) as { targetPort?: unknown }[]) {
        if (typeof p.targetPort === "string" && pods.length && !names.has(p.targetPort)) {
          report(o, `${describe(o)} port ${p.targetPort}`, "targetPort names no container port");
        }
      }
    }
    if (o.kind === "HorizontalPodAutoscaler") {
      const t = spec.scaleTargetRef as { kind: string; name: string };
      need(o, t.kind, t.name);
    }
    if (o.kind === "PodDisruptionBudget") {
      const sel = (spec.selector as { matchLabels?: Labels }).matchLabels;
      if (!podsFor(ns(o), sel).length) report(o, `Pods ${ns(o)}/${selectorText(sel)}`, "selects no pods");
    }
    if (o.kind === "NetworkPolicy") {
      const sel = (spec.podSelector as { matchLabels?: Labels }).matchLabels;
      if (!podsFor(ns(o), sel).length) report(o, `Pods ${ns(o)}/${selectorText(sel)}`, "podSelector selects no pods");
      const rules = [...((spec.ingress ?? []) as Json[]), ...((spec.egress ?? []) as Json[])];
      for (const peer of rules.flatMap((r) => (r.from ?? r.to ?? []) as Json[])) {
        const ps = (peer.podSelector as { matchLabels?: Labels } | undefined)?.matchLabels;
        if (ps && !peer.namespaceSelector && !podsFor(ns(o), ps).length) {
          report(o, `Pods ${ns(o)}/${selectorText(ps)}`, "peer podSelector selects no pods");
        }
      }
    }
    if (o.kind === "ServiceMonitor") {
      const sel = (spec.selector as { matchLabels?: Labels }).matchLabels;
      const svcs = objects.filter(
        (s) => s.kind === "Service" && ns(s) === ns(o) && matches(sel, s.metadata.labels ?? {}),
      );
      if (!svcs.length) report(o, `Service ${ns(o)}/${selectorText(sel)}`, "selects no Service");
      const names = new Set(svcs.flatMap((s) => ((s.spec as Json).ports as Port[]).map((p) => p.name)));
      for (const e of (spec.endpoints ?? []) as { port?: string }[]) {
        if (e.port && svcs.length && !names.has(e.port))
          report(o, `${describe(o)} port ${e.port}`, "no such Service port");
      }
    }
    if (o.kind === "PodMonitor") {
      const pods = podsFor(ns(o), (spec.selector as { matchLabels?: Labels }).matchLabels);
      if (!pods.length) report(o, `${describe(o)} selector`, "selects no pods");
      for (const e of (spec.podMetricsEndpoints ?? []) as { port?: string }[]) {
        if (e.port && pods.length && !portNames(pods).has(e.port))
          report(o, `${describe(o)} port ${e.port}`, "no such container port");
      }
    }
  }
  return issues;
}
