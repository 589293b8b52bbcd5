/** The relay server seen by hand-driven gRPC clients: authentication, gaps, duplicates, acks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Client, credentials, Metadata, type StatusObject, status } from "@grpc/grpc-js";
import type { RelayRequest, RelayResponse } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import { eventually } from "../presence/presence.contract.ts";
import { deliver, numbers, SECRET, startRelayNode } from "./relay.harness.ts";
import { RELAY_HEADERS, signRelayToken } from "./relay-auth.ts";
import { relayFrame, relayMethod } from "./relay-grpc.ts";

/** Opens a raw Relay stream with the given headers; collects acks and the final status. */
function rawStream(port: number, headers: Record<string, string>) {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  const call = client.makeBidiStreamRequest<RelayRequest, RelayResponse>(
    relayMethod.path,
    relayMethod.requestSerialize,
    relayMethod.responseDeserialize,
    metadata,
  );
  const acks: number[] = [];
  call.on("data", (r: RelayResponse) => acks.push(Number(r.ackedSeq)));
  call.on("error", () => {});
  const ended = new Promise<StatusObject>((resolve) => call.on("status", resolve)).finally(() => client.close());
  return { call, acks, ended };
}

const signed = (claims: { from: string; to: string; link: string }, secret = SECRET) => ({
  [RELAY_HEADERS.from]: claims.from,
  [RELAY_HEADERS.link]: claims.link,
  [RELAY_HEADERS.auth]: signRelayToken(secret, claims, Date.now()),
});

describe("relay server", () => {
  it("refuses unauthenticated callers with UNAUTHENTICATED and delivers nothing of theirs", async () => {
    const b = await startRelayNode("node-b", new Map());
    try {
      const refused: Record<string, string>[] = [
        {},
        { [RELAY_HEADERS.from]: "node-a", [RELAY_HEADERS.link]: "l1" },
        signed({ from: "node-a", to: "node-b", link: "l1" }, "a-different-secret-value"),
        signed({ from: "node-a", to: "node-c", link: "l1" }), // a token for another node
        { ...signed({ from: "node-a", to: "node-b", link: "l1" }), [RELAY_HEADERS.from]: "node-x" },
      ];
      for (const headers of refused) {
        const s = rawStream(b.server.port, headers);
        s.call.write(relayFrame(1, deliver(1)));
        assert.equal((await s.ended).code, status.UNAUTHENTICATED);
      }
      const failures = async () =>
        (await b.registry.getSingleMetric("calldrop_relay_auth_failures_total")?.get())?.values[0]?.value ?? 0;
      assert.equal(await failures(), refused.length);
      // A link whose node has the wrong secret gets nowhere either (and keeps retrying, loudly).
      const addresses = new Map([["node-b", `127.0.0.1:${b.server.port}`]]);
      const a = await startRelayNode("node-a", addresses, { secret: "not-the-cluster-secret" });
      a.links.send("node-b", deliver(1));
      await eventually(async () => assert.ok((await failures()) > refused.length));
      assert.equal(a.links.get("node-b")?.unacked(), 1);
      await a.close();
      assert.deepEqual(b.received, []);
    } finally {
      await b.close();
    }
  });

  it("detects a gap, reports it and resynchronises; drops duplicates; acks cumulatively", async () => {
    const b = await startRelayNode("node-b", new Map());
    try {
      const s = rawStream(b.server.port, signed({ from: "node-a", to: "node-b", link: "l1" }));
      for (const seq of [1, 2, 5, 5, 2, 6]) s.call.write(relayFrame(seq, deliver(seq)));
      await eventually(() => assert.equal(s.acks.at(-1), 6));
      assert.deepEqual(numbers(b.received), [1, 2, 5, 6]);
      const metric = async (name: string) => (await b.registry.getSingleMetric(name)?.get())?.values;
      assert.equal((await metric("calldrop_relay_gaps_total"))?.[0]?.value, 1);
      assert.equal((await metric("calldrop_relay_frames_lost_total"))?.[0]?.value, 2);
      const received = await metric("calldrop_relay_frames_received_total");
      assert.equal(received?.find((v) => v.labels.result === "duplicate")?.value, 2);
      // The same link on a new stream continues where it was: old frames are duplicates.
      s.call.end();
      await s.ended;
      const again = rawStream(b.server.port, signed({ from: "node-a", to: "node-b", link: "l1" }));
      for (const seq of [6, 7]) again.call.write(relayFrame(seq, deliver(seq)));
      await eventually(() => assert.equal(again.acks.at(-1), 7));
      assert.deepEqual(numbers(b.received), [1, 2, 5, 6, 7]);
      again.call.end();
      await again.ended;
    } finally {
      await b.close();
    }
  });
});
