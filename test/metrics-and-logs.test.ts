/**
 * Monitoring (PRODUCT.md §11): a call moves the relevant Prometheus series on
 * /metrics (served over HTTP/1.1), and the JSON logs carry call and request ids
 * but never tokens or SDP bodies.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

let server: ServerProcess;
before(async () => {
  server = await startServer({ CALLDROP_LOG__LEVEL: "debug" });
});
after(async () => {
  await server.stop();
});

/** The value of one series on /metrics, or undefined. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
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
  await alice.command("hangup", { callId });
  await bob.next("callEnded");
  for (
    let i = 0;
    i < 40 && (await sample("calldrop_calls_ended_total", { outcome: "completed" })) === before.completed;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }

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
  for (let i = 0; i < 40 && (await sample("calldrop_sessions_connected", { transport: "grpc" })) !== 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await sample("calldrop_sessions_connected", { transport: "grpc" }), 0);

  const metricsText = await (await fetch(`${server.baseUrl}/metrics`)).text();
  assert.ok(!metricsText.includes("alice") && !metricsText.includes(callId), "no user or call ids as labels");

  const logText = server.logs.map((l) => JSON.stringify(l)).join("\n");
  assert.ok(server.logs.some((l) => l.msg === "call ended" && l.callId === callId && l.outcome === "completed"));
  assert.ok(server.logs.some((l) => l.msg === "rpc" && typeof l.requestId === "string" && l.code === "ok"));
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
  await new Promise((r) => setTimeout(r, 100));
  const line = server.logs.find((l) => l.requestId === "req-123");
  assert.equal(line?.code, "invalid_argument");
  assert.equal(line?.rpc, "calldrop.v1.CallHistoryService/GetCall");
});
