import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createOutbox } from "./outbox.ts";

describe("cli outbox", () => {
  it("streams queued and later messages in order with fresh command ids, and ends on close", async () => {
    const outbox = createOutbox("alice", () => 7);
    outbox.send({ case: "ping", value: { $typeName: "calldrop.v1.Ping", nonce: 0n } });
    const requests = outbox.requests();
    assert.equal((await requests.next()).value?.message?.commandId, "alice-7-1");
    const waiting = requests.next();
    outbox.send({ case: "hangup", value: { $typeName: "calldrop.v1.Hangup", callId: "c", reason: 1 } });
    const second = (await waiting).value;
    assert.equal(second?.message?.commandId, "alice-7-2");
    assert.equal(second?.message?.kind.case, "hangup");
    outbox.close();
    assert.equal((await requests.next()).done, true);
  });

  it("keeps the counters of two outboxes apart", () => {
    const a = createOutbox("a", () => 1);
    const b = createOutbox("b", () => 1);
    a.send({ case: "ping", value: { $typeName: "calldrop.v1.Ping", nonce: 0n } });
    b.send({ case: "ping", value: { $typeName: "calldrop.v1.Ping", nonce: 0n } });
    return Promise.all([a.requests().next(), b.requests().next()]).then(([x, y]) => {
      assert.equal(x.value?.message?.commandId, "a-1-1");
      assert.equal(y.value?.message?.commandId, "b-1-1");
    });
  });
});
