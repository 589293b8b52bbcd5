/** Outbound links against real relay servers on 127.0.0.1: order, acks, resend, duplicates, bounds. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CommandForwardSchema, CommandReplySchema } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import { CommandResultSchema } from "../../../gen/calldrop/v1/signal_pb.js";
import { eventually } from "../presence/presence.contract.ts";
import { deliver, numbers, startProxy, startRelayNode } from "./relay.harness.ts";
import { RelayQueueFullError } from "./relay-link.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const value = async (node: { registry: import("prom-client").Registry }, name: string, labels = {}) => {
  const metric = await node.registry.getSingleMetricAsString(name);
  const line = metric
    .split("\n")
    .find((l) => l.startsWith(name) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return Number(line?.split(" ").at(-1) ?? Number.NaN);
};

describe("relay link", () => {
  it("delivers frames in order on one stream and gets every one acknowledged", async () => {
    const addresses = new Map<string, string>();
    const a = await startRelayNode("node-a", addresses);
    const b = await startRelayNode("node-b", addresses);
    addresses.set("node-b", `127.0.0.1:${b.server.port}`);
    try {
      for (const n of range(1, 500)) assert.equal(a.links.send("node-b", deliver(n)), n);
      await a.links.get("node-b")?.drained();
      assert.deepEqual(numbers(b.received), range(1, 500));
      assert.ok(b.received.every((f) => f.from === "node-a"));
      assert.equal(a.links.get("node-b")?.unacked(), 0);
      assert.equal(await value(b, "calldrop_relay_frames_received_total", { result: "duplicate" }), 0);
      assert.equal(await value(a, "calldrop_relay_unacked_frames"), 0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("resends unacknowledged frames after a broken connection; the receiver drops the duplicates", async () => {
    const addresses = new Map<string, string>();
    const a = await startRelayNode("node-a", addresses);
    const b = await startRelayNode("node-b", addresses, { ackDelayMs: 60_000 }); // withhold acks
    const proxy = await startProxy(b.server.port);
    addresses.set("node-b", proxy.address);
    try {
      for (const n of range(1, 20)) a.links.send("node-b", deliver(n));
      await eventually(() => assert.equal(b.received.length, 20));
      proxy.cut(); // nothing was acknowledged: all 20 are resent on the next stream
      await eventually(async () => assert.equal(await value(a, "calldrop_relay_frames_resent_total"), 20));
      for (const n of range(21, 25)) a.links.send("node-b", deliver(n));
      await eventually(() => assert.equal(b.received.length, 25));
      await eventually(async () =>
        assert.equal(await value(b, "calldrop_relay_frames_received_total", { result: "duplicate" }), 20),
      );
      assert.deepEqual(numbers(b.received), range(1, 25));
      assert.equal(await value(b, "calldrop_relay_gaps_total"), 0);
    } finally {
      await a.close();
      await b.close();
      await proxy.close();
    }
  });

  it("refuses a frame with RelayQueueFullError once the unacknowledged queue is full", async () => {
    const addresses = new Map([["node-b", "127.0.0.1:1"]]); // nobody listens: nothing is ever acknowledged
    const a = await startRelayNode("node-a", addresses, { maxUnacked: 3 });
    try {
      for (const n of range(1, 3)) a.links.send("node-b", deliver(n));
      assert.throws(
        () => a.links.send("node-b", deliver(4)),
        (e: unknown) => e instanceof RelayQueueFullError && e.peerNodeId === "node-b" && e.limit === 3,
      );
      assert.equal(await value(a, "calldrop_relay_queue_full_total"), 1);
      assert.equal(a.links.drop("node-b"), 3);
      assert.equal(await value(a, "calldrop_relay_unacked_frames"), 0);
    } finally {
      await a.close();
    }
  });

  it("starts a new sequence when the sending node restarts (new link id)", async () => {
    const addresses = new Map<string, string>();
    const b = await startRelayNode("node-b", addresses);
    addresses.set("node-b", `127.0.0.1:${b.server.port}`);
    try {
      for (const incarnation of [1, 2]) {
        const a = await startRelayNode("node-a", addresses);
        for (const n of range(1, 3)) a.links.send("node-b", deliver(incarnation * 10 + n));
        await a.links.get("node-b")?.drained();
        await a.close();
      }
      assert.deepEqual(numbers(b.received), [11, 12, 13, 21, 22, 23]);
    } finally {
      await b.close();
    }
  });

  it("carries a forwarded command's reply back as a frame of the reverse link", async () => {
    const addresses = new Map<string, string>();
    const a = await startRelayNode("node-a", addresses);
    const b = await startRelayNode("node-b", addresses, {
      onFrame(from, body) {
        if (body.case !== "commandForward") return;
        const result = create(CommandResultSchema, { commandId: body.value.message?.commandId ?? "", callId: "c1" });
        const reply = create(CommandReplySchema, {
          requestId: body.value.requestId,
          outcome: { case: "result", value: result },
        });
        b.links.send(from, { case: "commandReply", value: reply });
      },
    });
    addresses.set("node-a", `127.0.0.1:${a.server.port}`);
    addresses.set("node-b", `127.0.0.1:${b.server.port}`);
    try {
      const forward = create(CommandForwardSchema, {
        requestId: "r1",
        userId: "u1",
        deviceId: "d1",
        message: { commandId: "k1" },
      });
      a.links.send("node-b", { case: "commandForward", value: forward });
      await eventually(() => assert.equal(a.received.length, 1));
      const [reply] = a.received;
      assert.equal(reply?.from, "node-b");
      assert.equal(reply?.body.case, "commandReply");
      if (reply?.body.case === "commandReply") {
        assert.equal(reply.body.value.requestId, "r1");
        assert.equal(reply.body.value.outcome.case === "result" && reply.body.value.outcome.value.commandId, "k1");
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
