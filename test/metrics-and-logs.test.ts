/**
 * Monitoring (docs/spec.md §11): a call moves the relevant Prometheus series on
 * /metrics (served over HTTP/1.1), the JSON logs carry call and request ids
 * but never tokens or SDP bodies, and the metrics catalog the dashboards and
 * alerts are written against (k8s/tools/metrics-catalog.ts, k8s/README.md) is
 * what a real cluster node serves.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { METRICS } from "../k8s/tools/metrics-catalog.ts";
import { gatewaySecret } from "./notify/harness.ts";
import { historyClient, mobileDevice, webDevice } from "./support/devices.ts";
import { sharedEtcdEndpoint } from "./support/etcd-control.ts";
import { scrape, seriesValue } from "./support/metrics-scrape.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

let server: ServerProcess;
before(async () => {
  server = await startServer({ CALLDROP_LOG__LEVEL: "debug" });
});
after(async () => {
  await server.stop();
});

/** The value of one series on the server's /metrics, or undefined. */
const sample = (name: string, labels: Record<string, string> = {}) => seriesValue(server.baseUrl, name, labels);

/** Waits until the series has `value` (metrics of a call move when its effects have run). */
function seriesAt(name: string, labels: Record<string, string>, value: number): Promise<true> {
  return waitFor(async () => (await sample(name, labels)) === value, {
    what: `${name}${JSON.stringify(labels)} = ${value}`,
    state: () => sample(name, labels),
  });
}

test("a call moves the call, setup, path, session, RPC, hop and store series", async () => {
  const before = {
    started: (await sample("calldrop_calls_started_total")) ?? 0,
    completed: (await sample("calldrop_calls_ended_total", { outcome: "completed" })) ?? 0,
    relay: (await sample("calldrop_media_path_total", { path: "relay" })) ?? 0,
  };
  assert.equal(await sample("calldrop_calls_ended_total", { outcome: "missed" }), 0, "known label sets start at 0");
  const alice = await mobileDevice({
    baseUrl: server.baseUrl,
    token: await server.token("alice"),
    userId: "alice",
    deviceId: "p",
  });
  const bob = await webDevice({
    baseUrl: server.baseUrl,
    token: await server.token("bob"),
    userId: "bob",
    deviceId: "w",
  });
  assert.equal(await sample("calldrop_sessions_connected", { transport: "grpc" }), 1);
  assert.equal(await sample("calldrop_sessions_connected", { transport: "connect" }), 1);
  const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
  await bob.next("incomingCall");
  assert.equal(await sample("calldrop_calls_active"), 1);
  await bob.command("accept", { callId });
  await alice.command("description", { callId, type: 1, sdp: "v=0\r\ns=SECRET-SDP-BODY\r\n" });
  await bob.command("mediaState", { callId, state: 1, path: 2, setupMs: 300 });
  // Relayed media: both sides are told the relay's bitrate budget.
  assert.equal((await alice.next("qualityHint")).value.maxBitrateBps, 1_500_000);
  assert.equal((await bob.next("qualityHint")).value.maxBitrateBps, 1_500_000);
  await alice.command("hangup", { callId });
  await bob.next("callEnded");
  await seriesAt("calldrop_calls_ended_total", { outcome: "completed" }, before.completed + 1);

  assert.equal(await sample("calldrop_calls_started_total"), before.started + 1);
  assert.equal(await sample("calldrop_calls_ended_total", { outcome: "completed" }), before.completed + 1);
  assert.equal(await sample("calldrop_calls_active"), 0);
  assert.equal(await sample("calldrop_media_path_total", { path: "relay" }), before.relay + 1);
  assert.equal(await sample("calldrop_call_setup_seconds_count", { phase: "accept_to_connected", path: "relay" }), 1);
  assert.equal(await sample("calldrop_call_setup_seconds_sum", { phase: "accept_to_connected", path: "relay" }), 0.3);
  assert.equal(await sample("calldrop_call_setup_seconds_count", { phase: "start_to_ringing", path: "none" }), 1);
  assert.ok(((await sample("calldrop_signal_hop_seconds_count")) ?? 0) >= 1);
  const sends = { service: "calldrop.v1.SignalService", method: "Send", code: "ok" };
  assert.ok(((await sample("calldrop_rpc_handled_total", sends)) ?? 0) >= 2);
  assert.ok(
    ((await sample("calldrop_store_operation_seconds_count", { store: "calls", operation: "finalize" })) ?? 0) >= 1,
  );
  assert.equal(await sample("calldrop_build_info"), 1);

  alice.drop();
  bob.drop();
  await seriesAt("calldrop_sessions_connected", { transport: "grpc" }, 0);
  await seriesAt("calldrop_sessions_connected", { transport: "connect" }, 0);

  const metricsText = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.ok(!metricsText.includes("alice") && !metricsText.includes(callId), "no user or call ids as labels");

  // Log lines come through the server's stdout pipe: wait for them rather than race the pipe.
  await waitFor(
    () => server.logs.some((l) => l.msg === "call ended" && l.callId === callId && l.outcome === "completed"),
    {
      what: "the call's 'call ended' log line",
    },
  );
  assert.ok(server.logs.some((l) => l.msg === "rpc" && typeof l.requestId === "string" && l.code === "ok"));
  const logText = server.logs.map((l) => JSON.stringify(l)).join("\n");
  assert.ok(!logText.includes("SECRET-SDP-BODY"), "SDP bodies are never logged");
  assert.ok(!logText.includes((await server.token("alice")).split(".")[2] ?? "unreachable"), "tokens are never logged");
});

test("a failing RPC is logged with its code and the caller's request id, which is echoed back", async () => {
  const res = await fetch(`${server.baseUrl}/calldrop.v1.CallHistoryService/GetCall`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await server.token("carol")}`,
      "x-request-id": "req-123",
    },
    body: JSON.stringify({ callId: "nope" }),
  });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("x-request-id"), "req-123");
  const line = await waitFor(() => server.logs.find((l) => l.requestId === "req-123"), {
    what: "the log line of request req-123",
  });
  assert.equal(line.code, "invalid_argument");
  assert.equal(line.rpc, "calldrop.v1.CallHistoryService/GetCall");
});

/** Bucket bounds k8s/README.md promises the alert thresholds can rely on. */
const thresholds: Record<string, number[]> = {
  calldrop_signal_hop_seconds: [0.01, 1],
  calldrop_call_setup_seconds: [1, 3],
  calldrop_rpc_duration_seconds: [0.25],
  calldrop_store_operation_seconds: [0.1],
};

test("every catalogued metric is served by a cluster node with its type, labels, closed label values and alert buckets", async () => {
  // A cluster node with a push channel registers every family (relay, notifications); a key prefix of its own on the shared etcd.
  const node = await startServer({
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: JSON.stringify([sharedEtcdEndpoint()]),
    CALLDROP_CLUSTER__KEY_PREFIX: `/calldrop-metrics-${process.pid}/`,
    CALLDROP_CLUSTER__RELAY_SECRET: "metrics-relay-secret-0123456789",
    CALLDROP_CLUSTER__INTERNAL_PORT: "0",
    CALLDROP_NOTIFICATIONS__GATEWAY: JSON.stringify({ url: "http://127.0.0.1:9/v1/push", secret: gatewaySecret }),
  });
  try {
    // One call, so the families labelled by method, phase or operation have series (and show their buckets).
    const open = async (userId: string) =>
      webDevice({ baseUrl: node.baseUrl, token: await node.token(userId), userId, deviceId: "w" });
    const [dora, emil] = [await open("dora"), await open("emil")];
    const { callId } = await dora.command("startCall", { calleeUserId: "emil" });
    await emil.next("incomingCall");
    await emil.command("accept", { callId });
    await emil.command("mediaState", { callId, state: 1, path: 1, setupMs: 200 });
    await dora.command("hangup", { callId });
    await waitFor(
      async () => {
        const call = await historyClient(node.baseUrl, await node.token("dora")).get(callId);
        return call.outcome !== 0 && call;
      },
      { what: "the call's outcome recorded" },
    );
    dora.drop();
    emil.drop();
    const { samples, types } = await scrape(node.baseUrl);
    const problems = new Set<string>();
    for (const [name, family] of Object.entries(METRICS)) {
      if (types.get(name) !== family.type) {
        problems.add(`${name}: served as ${types.get(name) ?? "nothing"}, catalogued as ${family.type}`);
        continue;
      }
      const series = samples.filter((s) =>
        family.type === "histogram"
          ? [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(s.name)
          : s.name === name,
      );
      const documented = Object.keys(family.labels).sort();
      for (const s of series) {
        const names = Object.keys(s.labels)
          .filter((l) => !(s.name.endsWith("_bucket") && l === "le"))
          .sort();
        if (names.join() !== documented.join())
          problems.add(`${name}: labels ${names} served, ${documented} catalogued`);
        for (const [label, allowed] of Object.entries(family.labels)) {
          const v = s.labels[label];
          if (allowed && v !== undefined && !allowed.includes(v))
            problems.add(`${name}: ${label}="${v}" not catalogued`);
        }
      }
      const bounds = new Set(series.filter((s) => s.name.endsWith("_bucket")).map((s) => Number(s.labels.le)));
      for (const le of thresholds[name] ?? []) if (!bounds.has(le)) problems.add(`${name}: no bucket le=${le}`);
    }
    assert.deepEqual([...problems], []);
    const outcomes = samples.filter((s) => s.name === "calldrop_calls_ended_total").map((s) => s.labels.outcome);
    assert.deepEqual(outcomes.sort(), [...(METRICS.calldrop_calls_ended_total?.labels.outcome ?? [])].sort());
  } finally {
    await node.stop();
  }
});
