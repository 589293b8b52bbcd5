/**
 * Webhooks on a 3-node cluster (docs/spec.md §9 "Webhooks"): the nodes split the endpoint's 16
 * partitions through their claims in etcd, each partition delivered by exactly one node; when the
 * node running an answered call is killed (SIGKILL) mid-call, the survivors take its partitions
 * over from the stored cursors and the hang-up still yields exactly one `ended` webhook. The call
 * is one whose partition the killed node delivered, so its death cuts off the call and its deliverer.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { verifyWebhook } from "../src/codec/webhook-signature.ts";
import { eventPartitionOf } from "../src/domain/call-events.ts";
import { deliveringNode } from "../src/domain/webhooks.ts";
import { type Topology, threeNodes } from "./scenarios/topology.ts";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { seriesValue } from "./support/metrics-scrape.ts";
import { waitFor } from "./support/wait-for.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";

const secrets = [`whsec_${randomBytes(32).toString("base64")}`];
let topo: Topology;
let receiver: WebhookReceiver;
before(async () => {
  receiver = await startWebhookReceiver();
  topo = await threeNodes({
    CALLDROP_WEBHOOKS__ENDPOINTS: JSON.stringify([{ name: "chat", url: receiver.url, secrets }]),
    CALLDROP_WEBHOOKS__INITIAL_BACKOFF_MS: "100",
    CALLDROP_WEBHOOKS__MAX_BACKOFF_MS: "500",
    CALLDROP_WEBHOOKS__POLL_INTERVAL_MS: "50",
    CALLDROP_WEBHOOKS__CLAIM_CHECK_INTERVAL_MS: "200",
  });
});
after(async () => {
  await topo?.close();
  await receiver?.close();
});

/** Partitions of the endpoint each live node delivers. */
const owned = async () => {
  const counts: number[] = [];
  for (let k = 0; k < 3; k++) {
    if (!topo.up(k)) continue;
    counts.push(
      (await seriesValue(topo.node(k).baseUrl, "calldrop_webhook_partitions_owned", { webhook: "chat" })) ?? 0,
    );
  }
  return counts;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test("the nodes split the 16 partitions; the node running a call dies mid-call: exactly one ended webhook", async () => {
  const spread = await waitFor(async () => ((c) => sum(c) === 16 && c.every((n) => n > 0) && c)(await owned()), {
    what: "the 16 partitions claimed, some by every node",
  });
  assert.equal(spread.length, 3);
  const node0 = topo.node(0);
  const node1 = topo.node(1);
  const ids = [0, 1, 2].map((k) => topo.node(k).logs.find((l) => l.msg === "joined cluster")?.nodeId as string);
  const bob = await webDevice({
    baseUrl: node1.baseUrl,
    token: await node1.token("ben"),
    userId: "ben",
    deviceId: "w",
  });
  const devices = [bob];
  try {
    // A call run by node 0 in a partition node 0 delivers: its death cuts off both (a fresh caller
    // per try keeps the call-start limit away; the calls declined on the way are webhooks too).
    let callId = "";
    for (let i = 0; ; i++) {
      assert.ok(i < 30, "a call in one of node 0's partitions");
      const alice = await mobileDevice({
        baseUrl: node0.baseUrl,
        token: await node0.token(`ann${i}`),
        userId: `ann${i}`,
        deviceId: "p",
      });
      devices.push(alice);
      ({ callId } = await alice.command("startCall", { calleeUserId: "ben" }));
      await bob.next("incomingCall", (v) => v.callId === callId);
      if (deliveringNode(ids, "chat", eventPartitionOf(callId)) === ids[0]) break;
      await bob.command("decline", { callId });
      await alice.next("callEnded", (v) => v.callId === callId);
    }
    await bob.command("accept", { callId });
    await waitFor(() => receiver.delivered().some((r) => r.id === `${callId}:answered`), {
      what: "the answered webhook",
    });
    await topo.kill(0);
    await bob.command("hangup", { callId });
    await waitFor(() => receiver.delivered().some((r) => r.id === `${callId}:ended`), {
      what: "the ended webhook",
      timeoutMs: 30_000,
    });
    // The survivors hold all 16 again: had the dead node's partition delivered the ended twice, it would be here.
    await waitFor(async () => sum(await owned()) === 16, {
      what: "the dead node's partitions taken over",
      timeoutMs: 20_000,
    });
    const later = `${callId}:ended`;
    const ended = receiver.of(later);
    assert.equal(receiver.delivered().filter((r) => r.id === later).length, 1, "one ended delivered");
    for (const r of ended) assert.equal(verifyWebhook({ headers: r.headers, body: r.body, secrets }).id, later);
    const kinds = receiver
      .delivered()
      .filter((r) => r.id.startsWith(`${callId}:`))
      .map((r) => r.id.slice(callId.length + 1));
    assert.deepEqual(kinds, ["started", "answered", "ended"], "in order, once each");
  } finally {
    for (const d of devices) d.drop();
  }
});
