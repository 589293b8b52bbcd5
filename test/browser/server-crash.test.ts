/**
 * The server dies mid-call under two real Chromiums (docs/spec.md §3, §10): media keeps
 * flowing peer to peer, both pages reconnect on their own (their resume is refused by
 * the restarted node, so they open fresh sessions), the restarted node takes the call
 * back from its directory and asks both to resync, each page sends its signals of the
 * call again under their first ids, and the call hangs up normally with a correct record.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { SendRequestSchema } from "../../gen/calldrop/v1/signal_pb.js";
import { call, waitForCall, waitForHistory, waitForText } from "../support/app-driver.ts";
import { launchPeer, type Peer } from "../support/browser.ts";
import type { TestServer } from "../support/server.ts";
import { signedInPair } from "../support/signed-in-pair.ts";
import { waitFor } from "../support/wait-for.ts";

/** The Send commands a page made: id, what it resends (if anything), and the command's case. */
interface SentCommand {
  readonly commandId: string;
  readonly resendOf: string;
  readonly kind: string;
}

function recordSends(peer: Peer): SentCommand[] {
  const sent: SentCommand[] = [];
  peer.page.on("request", (r) => {
    if (!r.url().endsWith("/calldrop.v1.SignalService/Send")) return;
    const body = r.postDataBuffer();
    if (!body) return;
    const m = fromBinary(SendRequestSchema, body).message;
    if (m) sent.push({ commandId: m.commandId, resendOf: m.resendOf, kind: String(m.kind.case) });
  });
  return sent;
}

const waitUntil = (what: string, cond: () => boolean, timeoutMs?: number) => waitFor(cond, { what, timeoutMs });

describe("web client: the server dies mid-call", () => {
  let server: TestServer;
  let alice: Peer;
  let bob: Peer;

  before(async () => {
    ({ server, alice, bob } = await signedInPair((name) => launchPeer(name)));
  });

  after(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.stop();
  });

  it("media goes on, both pages come back and resync, and the call hangs up with a correct record", async () => {
    const sends = new Map([alice, bob].map((p) => [p, recordSends(p)]));
    await call(alice.page, "bob");
    await bob.page.getByTestId("incoming").waitFor({ state: "visible" });
    await bob.page.getByTestId("accept").click();
    const connected = (c: { phase: string; remoteFrames: number }) => c.phase === "connected" && c.remoteFrames > 0;
    const { callId } = await waitForCall(alice.page, "alice sees bob's video", connected);
    await waitForCall(bob.page, "bob sees alice's video", connected);

    await server.crash();
    // The pages reconnect by themselves; their fresh sessions make the restarted node take the call back.
    const back = () => server.logs().some((l) => l.msg === "took over call" && l.callId === callId);
    await waitUntil("the restarted node took the call back from its directory", back, 20_000);
    for (const peer of [alice, bob]) {
      // Resume refused by the restarted node → a fresh session → online again, still in the call.
      await peer.page.waitForFunction(
        () => document.querySelector("[data-testid=connection]")?.textContent === "online",
        undefined,
        { timeout: 20_000 },
      );
      const before = (await waitForCall(peer.page, `${peer.name} still connected`, connected)).remoteFrames;
      await waitForCall(peer.page, `${peer.name}'s video keeps coming`, (c) => c.remoteFrames > before + 10);
    }

    for (const [peer, sent] of sends) {
      const signals = sent.filter((s) => !s.resendOf && (s.kind === "description" || s.kind === "iceCandidate"));
      assert.ok(signals.length > 0, `${peer.name} signaled before the crash`);
      // After the resync every signal of the call went again, under its first id and a new command id.
      await waitUntil(`${peer.name} resent every signal`, () => {
        const resentIds = new Set(sent.filter((s) => s.resendOf).map((s) => s.resendOf));
        return signals.every((s) => resentIds.has(s.commandId));
      });
      for (const r of sent.filter((s) => s.resendOf)) {
        assert.ok(
          signals.some((s) => s.commandId === r.resendOf),
          "only signals of the call are resent",
        );
        assert.ok(!signals.some((s) => s.commandId === r.commandId), "a resend has a new command id");
      }
    }

    await alice.page.getByTestId("hangup").click();
    await waitForText(alice.page, /Call with bob ended/);
    await waitForText(bob.page, /Call with alice ended/);
    for (const peer of [alice, bob]) {
      const row = await waitForHistory(peer.page, callId, (r) => r.outcome === "completed");
      assert.equal(row.path, "p2p");
      assert.ok(row.durationMs > 1_000, `${peer.name}'s duration ${row.durationMs}`);
    }
  });
});
