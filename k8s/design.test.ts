// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests are untyped JSON; the assertions are the type check.
/**
 * The deployment properties the spec asks for (docs/spec.md §10, §12, §13; issues 4 and 7),
 * asserted on the rendered production overlay (and the base where placeholders matter):
 * probes, graceful drain, sizing, security, HPA, PDBs, NetworkPolicies, etcd, coturn.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { OUTBOX_DRAIN_FLOOR_MS } from "../src/store-stack.ts";
import { type K8sObject, renderKustomization } from "./tools/render.ts";

type Obj = K8sObject & { spec: any; data?: Record<string, string> };
let base: Obj[] = [];
let prod: Obj[] = [];
const get = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is rendered`);
  return o;
};
const byPrefix = (objs: Obj[], kind: string, prefix: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.startsWith(prefix));
  assert.ok(o, `${kind} ${prefix}* is rendered`);
  return o;
};

before(() => {
  base = renderKustomization(join(import.meta.dirname, "base")) as Obj[];
  prod = renderKustomization(join(import.meta.dirname, "overlays/production")) as Obj[];
});

describe("signaling StatefulSet", () => {
  const sts = () => get(prod, "StatefulSet", "calldrop-signaling");
  const pod = () => sts().spec.template.spec;
  const container = () => pod().containers.find((c: any) => c.name === "calldrop");
  const config = () => byPrefix(prod, "ConfigMap", "calldrop-signaling-config").data ?? {};

  it("serves 8080 (RPCs, health, metrics) and 8081 (forwarding) from container `calldrop`", () => {
    assert.deepEqual(
      container().ports.map((p: any) => [p.name, p.containerPort]),
      [
        ["http", 8080],
        ["forward", 8081],
      ],
    );
    assert.equal(container().livenessProbe.httpGet.path, "/healthz");
    assert.equal(container().readinessProbe.httpGet.path, "/readyz");
    assert.equal(container().startupProbe.httpGet.path, "/healthz");
  });

  it("drains: preStop sleep, then the server's drain window, inside the grace period (>= 60 s)", () => {
    const grace = pod().terminationGracePeriodSeconds;
    const preStop = container().lifecycle.preStop.sleep.seconds;
    const drainS = Number(config().CALLDROP_SERVER__DRAIN_TIMEOUT_MS) / 1000;
    assert.ok(grace >= 60, `terminationGracePeriodSeconds ${grace}`);
    assert.ok(preStop >= 5, `preStop sleep ${preStop}`);
    assert.ok(preStop + drainS < grace, `preStop ${preStop} s + drain ${drainS} s must fit in ${grace} s`);
    assert.ok(Number(config().CALLDROP_SERVER__MAX_CONNECTION_AGE_MS) > 0, "max connection age is set");
  });

  it("waits for the outbox past the drain window inside the grace period, with time left for the lease revoke", () => {
    const grace = pod().terminationGracePeriodSeconds;
    const preStop = container().lifecycle.preStop.sleep.seconds;
    const drainS = Number(config().CALLDROP_SERVER__DRAIN_TIMEOUT_MS) / 1000;
    const outboxS = OUTBOX_DRAIN_FLOOR_MS / 1000;
    assert.ok(outboxS >= 5, `outbox floor ${outboxS} s`);
    assert.ok(
      preStop + drainS + outboxS + 5 <= grace,
      `preStop ${preStop} s + drain ${drainS} s + outbox ${outboxS} s + 5 s revoke must fit in ${grace} s`,
    );
  });

  it("keeps the outboxes on a volume per pod that outlives the pod, where the config puts them", () => {
    const claim = sts().spec.volumeClaimTemplates.find((c: any) => c.metadata.name === "data");
    assert.ok(claim, "a volumeClaimTemplate `data`");
    assert.deepEqual(claim.spec.accessModes, ["ReadWriteOnce"]);
    assert.ok(parseInt(claim.spec.resources.requests.storage, 10) >= 2, claim.spec.resources.requests.storage);
    assert.equal(claim.spec.storageClassName, "ssd", "fsync-bound SQLite files on SSD");
    assert.equal(
      pod().volumes.find((v: any) => v.name === "data"),
      undefined,
      "no pod volume (an emptyDir) shadows the claim",
    );
    assert.deepEqual(sts().spec.persistentVolumeClaimRetentionPolicy, { whenScaled: "Retain", whenDeleted: "Retain" });
    const mount = container().volumeMounts.find((m: any) => m.name === "data");
    assert.ok(mount && !mount.readOnly, "the data volume is mounted writable");
    for (const key of ["CALLDROP_STORE__OUTBOX_PATH", "CALLDROP_STORE__SQLITE_PATH"]) {
      const path = config()[key] ?? "";
      assert.ok(path.startsWith(`${mount.mountPath}/`), `${key}=${path} is on the data volume (${mount.mountPath})`);
    }
    // The non-root server can write the volume.
    assert.equal(pod().securityContext.fsGroup, pod().securityContext.runAsGroup);
    assert.equal(sts().spec.serviceName, "calldrop-signaling-peers");
  });

  it("is sized as a 2-core 4 GiB pod with Guaranteed QoS and a V8 heap below the limit", () => {
    const r = container().resources;
    assert.deepEqual(r.requests, { cpu: "2", memory: "4Gi" });
    assert.deepEqual(r.limits, r.requests);
    assert.match(config().NODE_OPTIONS ?? "", /--max-old-space-size=3072/);
  });

  it("runs non-root with a read-only root filesystem and no privileges", () => {
    assert.equal(pod().securityContext.runAsNonRoot, true);
    assert.equal(pod().automountServiceAccountToken, false);
    const sc = container().securityContext;
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities.drop, ["ALL"]);
  });

  it("gets JWT keys, TURN secret, forward secret, etcd and Cassandra from ConfigMap / Secrets", () => {
    const env = Object.fromEntries(container().env.map((e: any) => [e.name, e]));
    assert.equal(env.CALLDROP_ICE__TURN_SECRET.valueFrom.secretKeyRef.name, "calldrop-turn");
    assert.equal(env.CALLDROP_CLUSTER__RELAY_SECRET.valueFrom.secretKeyRef.name, "calldrop-forward");
    assert.equal(env.CALLDROP_CLUSTER__NODE_NAME.valueFrom.fieldRef.fieldPath, "metadata.name");
    assert.match(container().envFrom[0].configMapRef.name, /^calldrop-signaling-config-/);
    assert.equal(config().CALLDROP_AUTH__JWKS_FILE, "/etc/calldrop/jwt/jwks.json");
    assert.equal(pod().volumes.find((v: any) => v.name === "jwt-keys").configMap.name, "calldrop-jwt-keys");
    assert.equal(config().CALLDROP_STORE__KIND, "cassandra");
    const etcd = get(prod, "StatefulSet", "etcd");
    const members = Array.from({ length: etcd.spec.replicas }, (_, i) => `etcd-${i}.etcd:2379`);
    assert.deepEqual(
      JSON.parse(config().CALLDROP_CLUSTER__ETCD_ENDPOINTS ?? "[]"),
      members,
      "one endpoint per etcd member",
    );
    assert.equal(config().CALLDROP_SERVER__HOST, "0.0.0.0");
  });

  it("leaves the replica count to the HPA, and replaces one ready pod at a time", () => {
    assert.equal(sts().spec.replicas, undefined);
    const hpa = get(prod, "HorizontalPodAutoscaler", "calldrop-signaling");
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      name: "calldrop-signaling",
    });
    // No surge with a StatefulSet (a pod's volume moves to its replacement): at most one pod down.
    assert.equal(sts().spec.updateStrategy.type, "RollingUpdate");
    assert.equal(sts().spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
    assert.equal(sts().spec.updateStrategy.rollingUpdate.partition, 0);
    assert.ok(sts().spec.minReadySeconds >= 10, "a new pod stays ready a while before the next is drained");
    assert.equal(sts().spec.podManagementPolicy, "Parallel");
  });
});

describe("signaling Services, HPA, PDB", () => {
  it("has a client Service (ready pods only) and a headless peers Service that keeps draining pods", () => {
    const client = get(prod, "Service", "calldrop-signaling");
    assert.notEqual(client.spec.clusterIP, "None");
    assert.notEqual(client.spec.publishNotReadyAddresses, true);
    const peers = get(prod, "Service", "calldrop-signaling-peers");
    assert.equal(peers.spec.clusterIP, "None");
    assert.equal(peers.spec.publishNotReadyAddresses, true);
    assert.ok(peers.spec.ports.some((p: any) => p.port === 8081));
  });

  it("autoscales on CPU and on connected sessions per pod", () => {
    const hpa = get(prod, "HorizontalPodAutoscaler", "calldrop-signaling");
    const kinds = hpa.spec.metrics.map((m: any) => m.resource?.name ?? m.pods?.metric.name);
    assert.deepEqual(kinds.sort(), ["calldrop_sessions_connected", "cpu"]);
    assert.ok(hpa.spec.minReplicas >= 3 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    assert.ok(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds >= 300, "scale-down is slow");
  });

  it("limits voluntary disruptions: one signaling pod at a time, etcd keeps quorum", () => {
    assert.equal(get(prod, "PodDisruptionBudget", "calldrop-signaling").spec.maxUnavailable, 1);
    assert.equal(get(prod, "PodDisruptionBudget", "etcd").spec.minAvailable, 2);
  });
});

describe("NetworkPolicies", () => {
  const np = () => get(prod, "NetworkPolicy", "calldrop-signaling").spec;
  const sig = { "app.kubernetes.io/name": "calldrop-signaling" };

  it("opens 8080 to anyone and 8081 only to signaling pods", () => {
    const open = np().ingress.find((r: any) => r.ports.some((p: any) => p.port === 8080));
    assert.equal(open.from, undefined, "8080 has no source restriction");
    const fwd = np().ingress.find((r: any) => r.ports.some((p: any) => p.port === 8081));
    assert.deepEqual(fwd.from, [{ podSelector: { matchLabels: sig } }]);
  });

  it("lets signaling reach only DNS, etcd, Cassandra, its peers and public HTTPS", () => {
    const ports = np().egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`));
    assert.deepEqual([...new Set(ports)].sort(), ["TCP/2379", "TCP/443", "TCP/53", "TCP/8081", "TCP/9042", "UDP/53"]);
    const https = np().egress.find((r: any) => r.ports.some((p: any) => p.port === 443));
    assert.ok(https.to[0].ipBlock.except.includes("10.0.0.0/8"), "HTTPS egress excludes private ranges");
  });

  it("lets only signaling pods reach etcd's client port", () => {
    const etcd = get(prod, "NetworkPolicy", "etcd").spec;
    const client = etcd.ingress.find((r: any) => r.ports.some((p: any) => p.port === 2379));
    assert.deepEqual(client.from, [{ podSelector: { matchLabels: sig } }]);
  });
});

describe("etcd StatefulSet", () => {
  it("runs 3 members with stable names, persistent volumes and a matching initial cluster", () => {
    const sts = get(prod, "StatefulSet", "etcd");
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.podManagementPolicy, "Parallel");
    const svc = get(prod, "Service", sts.spec.serviceName);
    assert.equal(svc.spec.clusterIP, "None");
    assert.equal(svc.spec.publishNotReadyAddresses, true);
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "50Gi");
    const args: string[] = sts.spec.template.spec.containers[0].args;
    const initial =
      args
        .find((a) => a.startsWith("--initial-cluster="))
        ?.split("=")
        .slice(1)
        .join("=") ?? "";
    assert.deepEqual(
      initial.split(",").map((m) => m.split("=")[0]),
      ["etcd-0", "etcd-1", "etcd-2"],
    );
    assert.equal(
      sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.length,
      1,
    );
  });
});

describe("coturn DaemonSet", () => {
  it("runs on the host network of TURN nodes, with the secret read from a file", () => {
    const ds = get(prod, "DaemonSet", "coturn");
    const spec = ds.spec.template.spec;
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.nodeSelector["calldrop.io/turn"], "true");
    const allEnv = [...spec.initContainers, ...spec.containers].flatMap((c: any) => c.env ?? []);
    assert.ok(!allEnv.some((e: any) => e.valueFrom?.secretKeyRef), "no secret in the environment");
    assert.equal(spec.volumes.find((v: any) => v.name === "auth").secret.secretName, "coturn-auth");
    assert.equal(ds.metadata.namespace, "calldrop-turn");
    const ns = get(prod, "Namespace", "calldrop-turn");
    assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
  });

  it("binds 443 for TURN over TLS with NET_BIND_SERVICE alone; the other containers gain nothing", () => {
    const spec = get(prod, "DaemonSet", "coturn").spec.template.spec;
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.equal(spec.securityContext.runAsUser, 65534);
    const coturn = spec.containers.find((c: any) => c.name === "coturn");
    assert.deepEqual(coturn.securityContext.capabilities, { drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    assert.equal(coturn.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(
      coturn.ports.filter((p: any) => p.name.startsWith("turn")).map((p: any) => [p.name, p.containerPort, p.protocol]),
      [
        ["turn-udp", 3478, "UDP"],
        ["turn-tcp", 3478, "TCP"],
        ["turns", 443, "TCP"],
      ],
    );
    for (const c of [...spec.initContainers, ...spec.containers.filter((c: any) => c.name !== "coturn")]) {
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, c.name);
    }
    const tls = spec.volumes.find((v: any) => v.name === "tls");
    assert.equal(tls.secret.secretName, "coturn-tls");
    assert.ok(
      coturn.volumeMounts.some((m: any) => m.name === "tls" && m.mountPath === "/etc/coturn/tls" && m.readOnly),
      "the certificate is mounted where render-config.sh looks for it",
    );
  });

  it("signaling hands out TURN URLs on coturn's ports: udp and tcp on listening-port, turns: on tls-listening-port", () => {
    const conf = byPrefix(prod, "ConfigMap", "coturn-config-").data?.["turnserver.conf"] as string;
    const port = (name: string) =>
      /^(\S+)=(\d+)$/m.exec(conf.split("\n").find((l) => l.startsWith(`${name}=`)) ?? "")?.[2];
    const urls = JSON.parse(
      byPrefix(prod, "ConfigMap", "calldrop-signaling-config").data?.CALLDROP_ICE__TURN_URLS ?? "[]",
    );
    const transports = urls.map((u: string) => {
      const m = /^(turns?):[^:?]+:(\d+)(?:\?transport=(udp|tcp))?$/.exec(u);
      assert.ok(m, `a TURN URL with a port: ${u}`);
      const [, scheme, p, transport = "udp"] = m;
      assert.equal(p, port(scheme === "turns" ? "tls-listening-port" : "listening-port"), u);
      return scheme === "turns" ? "tls" : transport;
    });
    assert.deepEqual(transports, ["udp", "tcp", "tls"], "all three, in the order clients try them");
  });

  it("rotates the TURN REST secrets without a restart: a sidecar applies the mounted Secret to coturn's userdb", () => {
    const spec = get(prod, "DaemonSet", "coturn").spec.template.spec;
    const sidecar = spec.containers.find((c: any) => c.name === "secrets-sync");
    assert.ok(sidecar, "a secrets-sync container");
    assert.deepEqual(sidecar.command, ["/bin/sh", "/etc/coturn/watch-secrets.sh"]);
    // A subPath mount is never updated by the kubelet: the Secret must be mounted as a directory.
    const auth = sidecar.volumeMounts.find((m: any) => m.name === "auth");
    assert.equal(auth.mountPath, "/etc/coturn/auth");
    assert.equal(auth.subPath, undefined);
    const db = (c: any) => c.volumeMounts.find((m: any) => m.mountPath === "/run/coturn")?.name;
    const coturn = spec.containers.find((c: any) => c.name === "coturn");
    assert.equal(db(sidecar), db(coturn), "the sidecar writes the userdb coturn reads");
    assert.ok(coturn.args.includes("--db=/run/coturn/turndb"));
    const conf = byPrefix(prod, "ConfigMap", "coturn-config-").data?.["turnserver.conf"] as string;
    const realm = /^realm=(.*)$/m.exec(conf)?.[1];
    for (const c of [sidecar, ...spec.initContainers]) {
      assert.equal(
        c.env.find((e: any) => e.name === "COTURN_REALM")?.value,
        realm,
        `${c.name}: the realm of turnserver.conf`,
      );
    }
    assert.ok(!/^static-auth-secret/m.test(conf), "no static secret, which would shadow the userdb");
  });
});

describe("placeholders", () => {
  const marked = (objs: Obj[]) => objs.filter((o) => o.metadata.annotations?.["calldrop.io/placeholder"] === "true");

  it("base secrets are obvious placeholders, never real values", () => {
    const secrets = base.filter((o) => o.kind === "Secret");
    assert.equal(secrets.length, 3);
    for (const s of secrets) {
      assert.ok(marked(base).includes(s), `${s.metadata.name} is marked as a placeholder`);
      for (const [k, v] of Object.entries((s as any).stringData ?? s.data ?? {})) {
        assert.match(String(v), /^placeholder-.*-replace-me$/, `${s.metadata.name}/${k}`);
      }
    }
  });

  it("production carries no placeholder object and no placeholder value", () => {
    assert.deepEqual(marked(prod), []);
    assert.equal(prod.filter((o) => o.kind === "Secret").length, 0);
    assert.doesNotMatch(JSON.stringify(prod), /replace-me/);
  });
});
