/** The Subscribe cursor codec (docs/spec.md §9 "Call events"): round trips, joins, refusals. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDomainError } from "../domain/errors.ts";
import { decodeEventCursor, encodeEventCursor } from "./event-cursor.ts";

test("a cursor round-trips its group and positions", () => {
  const positions = new Map([
    [0, { seq: 12, eventId: "" }],
    [4, { seq: 1_780_000_000_000, eventId: "0190f3a2-0000-7000-8000-000000000000:ended" }],
  ]);
  assert.deepEqual(decodeEventCursor(encodeEventCursor("chat", positions)), { group: "chat", positions });
});

test("cursors joined by '.' are one cursor with all their partitions", () => {
  const a = encodeEventCursor("chat", new Map([[0, { seq: 1, eventId: "" }]]));
  const b = encodeEventCursor("chat", new Map([[1, { seq: 2, eventId: "" }]]));
  assert.deepEqual([...decodeEventCursor(`${a}.${b}`).positions.keys()], [0, 1]);
});

test("garbage, foreign, overlapping and out-of-range cursors are invalid_argument with a reason", () => {
  const chat = encodeEventCursor("chat", new Map([[0, { seq: 1, eventId: "" }]]));
  const other = encodeEventCursor("analytics", new Map([[1, { seq: 1, eventId: "" }]]));
  const raw = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const cases: [string, RegExp][] = [
    ["garbage", /not one this service issued/],
    ["", /not one this service issued/],
    [raw([2, "chat", []]), /not one this service issued/],
    [raw([1, "chat", [[16, 1]]]), /malformed position/],
    [raw([1, "chat", [[0, -1]]]), /malformed position/],
    [raw([1, "chat", [[0, 1, 7]]]), /malformed position/],
    [`${chat}.${chat}`, /partition 0 twice/],
    [`${chat}.${other}`, /different groups/],
    ["x".repeat(70_000), /longer than/],
  ];
  for (const [token, why] of cases) {
    assert.throws(
      () => decodeEventCursor(token),
      (e: unknown) => isDomainError(e, "invalid_argument") && why.test(e.message),
      token.slice(0, 40),
    );
  }
});
