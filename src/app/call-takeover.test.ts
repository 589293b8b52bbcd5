import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import { pino } from "pino";
import { createManualClock } from "../adapters/clock/manual-clock.ts";
import { nodeDigests } from "../adapters/crypto/node-digests.ts";
import { ringing } from "../adapters/directory/call-directory.contract.ts";
import { createMemoryCallDirectory } from "../adapters/directory/memory-call-directory.ts";
import { DomainError } from "../domain/errors.ts";
import { chooseNode, createCallTakeover } from "./call-takeover.ts";
import type { LiveCall } from "./ports/call-directory.ts";
import type { CallRecord } from "./ports/call-store.ts";

test("chooseNode: deterministic, spreads calls, and only moves the calls of a node that left", () => {
  const nodes = ["n1", "n2", "n3"];
  const calls = Array.from({ length: 300 }, (_, i) => `call-${i}`);
  const before = calls.map((c) => chooseNode(c, nodes, nodeDigests));
  assert.deepEqual(
    calls.map((c) => chooseNode(c, [...nodes].reverse(), nodeDigests)),
    before,
    "independent of the order nodes are listed in",
  );
  for (const n of nodes) {
    const share = before.filter((x) => x === n).length;
    assert.ok(share > 60 && share < 140, `${n} gets ${share} of 300`);
  }
  const after = calls.map((c) => chooseNode(c, ["n1", "n3"], nodeDigests));
  calls.forEach((_, i) => {
    if (before[i] !== "n2") assert.equal(after[i], before[i], "a call of a surviving node stays put");
  });
  assert.equal(chooseNode("x", [], nodeDigests), undefined);
});

describe("call takeover", () => {
  function setup(nodes: string[], logger = pino({ level: "silent" })) {
    const directory = createMemoryCallDirectory();
    const outage = { on: false };
    const clock = createManualClock(100_000);
    const adopted: LiveCall[] = [];
    const running = new Set<string>();
    const forfeited: string[] = [];
    const overdue: CallRecord[] = [];
    const refusing = new Set<string>();
    const takeover = createCallTakeover({
      nodeId: "me",
      presence: { nodes: async () => nodes.map((nodeId) => ({ nodeId, address: "" })) },
      directory,
      store: {
        listOverdueRinging: async (before) => {
          if (outage.on) throw new DomainError("unavailable", "call history store unavailable");
          return overdue.filter((r) => r.ringDeadlineMs < before);
        },
      },
      calls: {
        adopt: async (live) => {
          adopted.push(live);
          running.add(live.callId);
        },
        runs: (id) => running.has(id),
        running: () => [...running],
        forfeit: (id) => {
          forfeited.push(id);
          running.delete(id);
        },
      },
      peers: { refuses: async (node) => refusing.has(node) },
      clock,
      digests: nodeDigests,
      logger,
      sweepIntervalMs: 1_000,
      overdueGraceMs: 500,
      secondPassMs: 2_000,
      orphanScanIntervalMs: 10_000,
    });
    return { directory, clock, adopted, running, forfeited, overdue, refusing, takeover, outage };
  }
  const record = (s: ReturnType<typeof ringing>): CallRecord => ({ ...s.call });

  it("sweeps overdue ringing calls nobody live runs, once, and leaves those of live owners alone", async () => {
    const w = setup(["me", "alive"]);
    const dead = ringing("a1", "b1");
    const live = ringing("a2", "b2");
    const answered = ringing("a3", "b3");
    await w.directory.claim(dead, "dead");
    await w.directory.claim(live, "alive");
    w.overdue.push(record(dead), record(live), { ...record(answered), answeredDeviceId: "p" });
    w.clock.advance(0);
    assert.equal(await w.takeover.sweep(), 1);
    assert.deepEqual(
      w.adopted.map((l) => [l.callId, l.ownerNodeId]),
      [[dead.call.callId, "me"]],
    );
    assert.equal((await w.directory.find(dead.call.callId))?.ownerNodeId, "me");
    assert.equal(await w.takeover.sweep(), 0, "already running here");
  });

  it("rings out an overdue call that was never claimed (its node died before)", async () => {
    const w = setup(["me"]);
    const orphan = ringing("a4", "b4");
    w.overdue.push(record(orphan));
    assert.equal(await w.takeover.sweep(), 1);
    assert.equal(w.adopted[0]?.state.phase, "ringing");
    assert.equal(w.adopted[0]?.callId, orphan.call.callId);
  });

  it("takes over the calls of a node that left: its share first, the rest after the second pass", async () => {
    const w = setup(["me", "other"]);
    const calls = Array.from({ length: 20 }, (_, i) => ringing(`x${i}`, `y${i}`));
    for (const c of calls) await w.directory.claim(c, "gone");
    w.takeover.nodeLeft("gone");
    w.clock.advance(0);
    await new Promise((r) => setImmediate(r));
    const share = w.adopted.length;
    assert.ok(share > 0 && share < 20, `took ${share} of 20 first`);
    w.clock.advance(2_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(w.adopted.length, 20);
    w.takeover.stop();
  });

  it("a node that refuses connections: its ringing calls are taken at their deadline, not when its lease ends", async () => {
    const w = setup(["me", "crashed"]);
    const settle = () => new Promise((r) => setImmediate(r));
    const soon = ringing("a5", "b5");
    const later = { ...ringing("a6", "b6") };
    const laterCall = { ...later, call: { ...later.call, ringDeadlineMs: 41_000 } };
    const answered = ringing("a8", "b8");
    const back = ringing("a7", "b7");
    await w.directory.claim(soon, "crashed");
    await w.directory.claim(laterCall, "crashed");
    await w.directory.claim(answered, "crashed");
    await w.directory.update({
      phase: "connected",
      call: answered.call,
      answeredDeviceId: "p1",
      answeredAtMs: 2_000,
      connectedAtMs: 2_500,
      path: "p2p",
      setupMs: 500,
      candidates: 4,
    });
    await w.directory.claim(back, "restarted");
    w.clock.advance(30_000 - w.clock.now());
    w.refusing.add("crashed");
    w.takeover.nodeUnreachable("crashed");
    w.takeover.nodeUnreachable("restarted"); // refused once, answers again by its deadline
    w.takeover.nodeUnreachable("crashed"); // reported again by every refused attempt: listed once
    w.clock.advance(0);
    await settle();
    assert.equal(w.adopted.length, 0, "nothing before a deadline");
    w.clock.advance(1_000);
    await settle();
    await settle();
    assert.deepEqual(
      w.adopted.map((l) => [l.callId, l.ownerNodeId, l.state.phase]),
      [[soon.call.callId, "me", "ringing"]],
      "the call whose deadline passed is taken, once; the answered one waits for the lease",
    );
    w.clock.advance(10_000);
    await settle();
    await settle();
    assert.deepEqual(
      w.adopted.map((l) => l.callId),
      [soon.call.callId, laterCall.call.callId],
      "the next one at its own deadline; the node that answers again keeps its call",
    );
    assert.equal((await w.directory.find(back.call.callId))?.ownerNodeId, "restarted");
    w.takeover.stop();
  });

  it("the orphan scan runs on one node per interval, not on every node", async () => {
    const epochsScanned = async (nodes: string[]) => {
      const w = setup(nodes);
      let scanned = 0;
      for (let epoch = 0; epoch < 20; epoch++) {
        await w.directory.claim(ringing(`o${nodes.length}-${epoch}`, `p${nodes.length}-${epoch}`), "gone");
        if ((await w.takeover.scanOrphans()) > 0) scanned++;
        w.clock.advance(10_000);
      }
      return scanned;
    };
    assert.equal(await epochsScanned(["me"]), 20, "alone, every interval");
    const shared = await epochsScanned(["me", "other", "third"]);
    assert.ok(shared > 0 && shared < 20, `one of three nodes: scanned ${shared} of 20 intervals here`);
  });

  it("fencing: drops calls the directory now gives to another node", async () => {
    const w = setup(["me", "other"]);
    const mine = ringing("a5", "b5");
    const lost = ringing("a6", "b6");
    await w.directory.claim(mine, "me");
    await w.directory.claim(lost, "me");
    w.running.add(mine.call.callId).add(lost.call.callId);
    await w.directory.takeOver(lost.call.callId, "me", "other");
    assert.equal(await w.takeover.fence(), 1);
    assert.deepEqual(w.forfeited, [lost.call.callId]);
  });

  it("fencing also adopts a call the directory gives to this node but that it does not run (a failed adoption)", async () => {
    const w = setup(["me"]);
    const stranded = ringing("a10", "b10");
    const running = ringing("a11", "b11");
    await w.directory.claim(stranded, "me");
    await w.directory.claim(running, "me");
    w.running.add(running.call.callId);
    assert.equal(await w.takeover.fence(), 0);
    assert.deepEqual(
      w.adopted.map((l) => l.callId),
      [stranded.call.callId],
    );
    await w.takeover.fence();
    assert.equal(w.adopted.length, 1, "adopted once: it runs here now");
  });

  it("a lost lease fences at once, and again after the others' leftover pass", async () => {
    const w = setup(["me", "other"]);
    const calls = [ringing("a7", "b7"), ringing("a8", "b8"), ringing("a9", "b9")];
    for (const c of calls) {
      await w.directory.claim(c, "me");
      w.running.add(c.call.callId);
    }
    const [first, late, kept] = calls.map((c) => c.call.callId) as [string, string, string];
    await w.directory.takeOver(first, "me", "other"); // their share, taken as soon as they saw us leave
    w.takeover.leaseLost();
    w.clock.advance(0);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(w.forfeited, [first], "dropped at once, not at the next orphan scan");
    await w.directory.takeOver(late, "me", "other"); // their leftover pass
    w.clock.advance(2_000);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(w.forfeited, [first, late]);
    w.clock.advance(2_000);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(w.forfeited, [first, late], "a call still owned here keeps running");
    assert.ok(w.running.has(kept));
    w.takeover.stop();
  });

  it("a store outage is logged when the sweep starts failing and when it works again, not at every sweep", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const w = setup(["me"], logger);
    const settle = () => new Promise((r) => setImmediate(r));
    w.takeover.start();
    w.outage.on = true;
    for (let i = 0; i < 6; i++) {
      w.clock.advance(1_000);
      await settle();
    }
    w.outage.on = false;
    for (let i = 0; i < 3; i++) {
      w.clock.advance(1_000);
      await settle();
    }
    w.takeover.stop();
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["takeover sweep paused: store unavailable", "takeover sweep resumed"],
    );
    assert.equal(lines[0]?.reason, "call history store unavailable");
    assert.equal(lines[0]?.err, undefined, "no stack trace");
    assert.equal(lines[1]?.failures, 6);
  });
});
