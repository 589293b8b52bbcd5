/** Fetching a resumed session from the node that holds it, and giving up on a node that is gone. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { createClusterMetrics } from "../adapters/metrics/cluster-metrics.ts";
import { isDomainError } from "../domain/errors.ts";
import type { PeerMessage } from "./ports/peers.ts";
import { createSessionHandoff } from "./session-handoff.ts";

const TIMEOUT_MS = 3_000;

/** The handoff of node "b" with node "a" listed alive; what it sends to "a" is recorded, never answered. */
function handoffOfB() {
  const clock = createManualClock();
  const sent: PeerMessage[] = [];
  const handoff = createSessionHandoff({
    nodeId: "b",
    hub: { release: () => assert.fail("not asked"), adopt: () => assert.fail("not answered") },
    presence: {
      nodes: async () => [
        { nodeId: "a", address: "x" },
        { nodeId: "b", address: "y" },
      ],
    },
    peers: { send: (_to, message) => void sent.push(message) },
    onMoved: () => {},
    clock,
    logger: pino({ level: "silent" }),
    metrics: createClusterMetrics(new Registry()),
    timeoutMs: TIMEOUT_MS,
  });
  const resume = () =>
    handoff.fetch({
      userId: "alice",
      deviceId: "phone",
      resumeToken: `${Buffer.from("a").toString("base64url")}.secret`,
      lastSeq: 0,
    });
  return { clock, sent, handoff, resume };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe("session handoff", () => {
  test("a fetch waits for the holder's answer up to the timeout", async () => {
    const { clock, sent, resume } = handoffOfB();
    const fetched = resume();
    assert.equal(await settled(fetched), false);
    assert.equal(sent[0]?.kind, "handoff");
    clock.advance(TIMEOUT_MS);
    await assert.rejects(fetched, (e) => isDomainError(e, "resume_expired"));
  });

  test("a holder found unreachable fails the waiting fetch at once, and new ones for a while without asking", async () => {
    const { clock, sent, handoff, resume } = handoffOfB();
    const waiting = resume();
    assert.equal(await settled(waiting), false);
    handoff.unreachable("a");
    await assert.rejects(waiting, (e) => isDomainError(e, "resume_expired"));

    const asked = sent.length;
    await assert.rejects(resume(), (e) => isDomainError(e, "resume_expired"));
    assert.equal(sent.length, asked, "nothing sent to a node just found unreachable");

    // After the timeout the node is asked again (it may have been a passing failure).
    clock.advance(TIMEOUT_MS);
    const later = resume();
    assert.equal(await settled(later), false);
    assert.equal(sent.length, asked + 1);
    handoff.nodeLeft("a");
    await assert.rejects(later, (e) => isDomainError(e, "resume_expired"));
  });
});
