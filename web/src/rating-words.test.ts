/** Unit tests of the rating in history's words (docs/spec.md §15). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CallRecordSchema } from "../../gen/calldrop/v1/call_pb.js";
import { myRating, ratingInWords } from "./rating-words.ts";

const call = create(CallRecordSchema, {
  callerUserId: "alice",
  calleeUserId: "bob",
  callerRating: { score: 4 },
  calleeRating: { score: 2 },
});

test("says the reader's own rating, on their side of the call", () => {
  assert.equal(ratingInWords(call, "alice"), "You rated 4/5");
  assert.equal(ratingInWords(call, "bob"), "You rated 2/5");
});

test("says nothing when the reader gave no rating", () => {
  const unrated = create(CallRecordSchema, { callerUserId: "alice", calleeUserId: "bob" });
  assert.equal(ratingInWords(unrated, "alice"), undefined);
  const empty = create(CallRecordSchema, { callerUserId: "alice", calleeUserId: "bob", callerRating: { score: 0 } });
  assert.equal(myRating(empty, "alice"), undefined);
});
