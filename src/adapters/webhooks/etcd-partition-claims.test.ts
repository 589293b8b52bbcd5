/**
 * Webhook partition claims on a real etcd (docs/spec.md §9 "Webhooks"): nodes split each
 * endpoint's partitions with no partition held twice; when one node leaves, the others take its
 * partitions; a node joining gets its share, released by the others first.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { Etcd3 } from "etcd3";
import { pino } from "pino";
import { sharedEtcdEndpoint } from "../../../test/support/etcd-control.ts";
import { waitFor } from "../../../test/support/wait-for.ts";
import type { PartitionClaims } from "../../app/ports/partition-claims.ts";
import { eventPartitionCount } from "../../domain/call-events.ts";
import { deliveringNode } from "../../domain/webhooks.ts";
import { createSystemClock } from "../clock/system-clock.ts";
import { createEtcdPartitionClaims } from "./etcd-partition-claims.ts";

const endpoint = sharedEtcdEndpoint();
const keyPrefix = `/calldrop-test-${randomUUID()}-webhooks/`;
const endpoints = ["chat", "fraud"];
const open = (nodeId: string) =>
  createEtcdPartitionClaims({
    endpoints: [endpoint],
    keyPrefix,
    nodeId,
    leaseTtlS: 2,
    webhookEndpoints: endpoints,
    intervalMs: 50,
    clock: createSystemClock(),
    logger: pino({ level: "silent" }),
  });
after(async () => {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  await client.delete().prefix(keyPrefix).exec();
  client.close();
});

/** Polls (real time: etcd and its leases run on it) until each partition is held by its rendezvous winner alone. */
async function settled(nodes: Record<string, PartitionClaims>, gone: PartitionClaims[] = []) {
  const ids = Object.keys(nodes);
  const problems = () =>
    endpoints.flatMap((e) =>
      Array.from({ length: eventPartitionCount }, (_, p) => {
        const held = Object.entries(nodes)
          .filter(([, n]) => n.owns(e, p))
          .map(([id]) => id);
        if (held.length > 1 || gone.some((n) => n.owns(e, p))) assert.fail(`${e}/${p} held twice: ${held}`);
        const winner = deliveringNode(ids, e, p);
        return held[0] === winner ? [] : [`${e}/${p}: ${held[0] ?? "nobody"}, not ${winner}`];
      }).flat(),
    );
  // A partition held twice fails at once; anything else is waited for (claims move on etcd's time).
  let twice: unknown;
  await waitFor(
    () => {
      try {
        return problems().length === 0;
      } catch (err) {
        twice = err;
        return true;
      }
    },
    { what: "every partition held by its delivering node only", timeoutMs: 10_000, state: () => problems() },
  );
  if (twice) throw twice;
  assert.deepEqual(problems(), []);
}

test("nodes split the partitions, never hold one twice, and take a leaving node's share over", async () => {
  const opened: PartitionClaims[] = [];
  const node = (id: string) => {
    const n = open(id);
    opened.push(n);
    return n;
  };
  try {
    const a = node("a-1");
    const b = node("b-2");
    await settled({ "a-1": a, "b-2": b });
    const c = node("c-3");
    await settled({ "a-1": a, "b-2": b, "c-3": c });
    await b.close();
    await settled({ "a-1": a, "c-3": c }, [b]);
  } finally {
    for (const n of opened) await n.close();
  }
});
