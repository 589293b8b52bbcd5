/** Webhook delivery rules (docs/spec.md §9 "Webhooks"). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs, classifyStatus, deliveringNode, passesFilter } from "./webhooks.ts";

test("filters: kinds, outcomes of ended events, and outcomes alone meaning only those ended events", () => {
  const all = { kinds: [], outcomes: [] };
  assert.ok(passesFilter(all, "started", undefined) && passesFilter(all, "ended", "completed"));
  const missedOnly = { kinds: [], outcomes: ["missed" as const] };
  assert.ok(passesFilter(missedOnly, "ended", "missed"));
  assert.ok(!passesFilter(missedOnly, "ended", "completed"));
  assert.ok(!passesFilter(missedOnly, "started", undefined), "outcomes alone: ended events only");
  const startsAndMissed = { kinds: ["started" as const, "ended" as const], outcomes: ["missed" as const] };
  assert.ok(passesFilter(startsAndMissed, "started", undefined));
  assert.ok(!passesFilter(startsAndMissed, "answered", undefined));
  assert.ok(!passesFilter(startsAndMissed, "ended", "declined"));
  assert.ok(passesFilter({ kinds: ["answered"], outcomes: [] }, "answered", undefined));
});

test("answers: 2xx delivered; 408, 429 and 5xx retried; any other status (410 too) rejected", () => {
  assert.deepEqual(classifyStatus(204), { result: "delivered", status: 204 });
  for (const s of [408, 429, 500, 502, 503]) assert.equal(classifyStatus(s).result, "retry", String(s));
  assert.deepEqual(classifyStatus(429, 3000), { result: "retry", error: "HTTP 429", status: 429, retryAfterMs: 3000 });
  for (const s of [301, 400, 401, 404, 410, 422]) assert.equal(classifyStatus(s).result, "rejected", String(s));
});

test("backoff doubles from the initial delay up to the cap, jittered over its upper half; Retry-After wins", () => {
  const p = { maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 60_000 };
  assert.equal(backoffMs(p, 1, 0), 500);
  assert.equal(backoffMs(p, 1, 0.999), 1000);
  assert.equal(backoffMs(p, 3, 0), 2000);
  assert.equal(backoffMs(p, 3, 0.5), 3000);
  assert.equal(backoffMs(p, 20, 0.5), 45_000, "capped, then jittered");
  assert.equal(backoffMs(p, 1, 0, 10_000), 10_000, "Retry-After");
  assert.equal(backoffMs(p, 1, 0, 3_600_000), 60_000, "Retry-After capped too");
});

test("the delivering node: the same from any order of the list; a node leaving moves only its partitions", () => {
  const nodes = ["a-1", "b-2", "c-3"];
  const owners = (list: string[]) => Array.from({ length: 16 }, (_, p) => deliveringNode(list, "chat", p));
  const before = owners(nodes);
  assert.deepEqual(owners([...nodes].reverse()), before);
  assert.equal(new Set(before).size, 3, "every node delivers some");
  const after = owners(["a-1", "c-3"]);
  before.forEach((owner, p) => {
    if (owner !== "b-2") assert.equal(after[p], owner, `partition ${p} stays`);
  });
  assert.equal(deliveringNode([], "chat", 0), undefined);
});
