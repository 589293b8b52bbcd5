/** Unit tests of rating validation and the deterministic rating sample (docs/spec.md §15 "Post-call rating"). */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { isDomainError } from "./errors.ts";
import { checkRating, inRatingSample, maxRatingCommentChars, sameRating } from "./rating.ts";

const invalid = (e: unknown) => isDomainError(e, "invalid_argument");

describe("checkRating", () => {
  it("keeps a valid rating, reasons deduplicated in the set's order and the comment trimmed", () => {
    const r = checkRating({ score: 2, reasons: ["echo", "audio_choppy", "echo"], comment: "  robot voice " }, 7);
    assert.deepEqual(r, { score: 2, reasons: ["audio_choppy", "echo"], comment: "robot voice", ratedAtMs: 7 });
    assert.deepEqual(checkRating({ score: 5, reasons: [], comment: "   " }, 1), {
      score: 5,
      reasons: [],
      ratedAtMs: 1,
    });
  });

  it("refuses scores outside 1–5 and fractions", () => {
    for (const score of [0, 6, -1, 2.5, Number.NaN]) {
      assert.throws(() => checkRating({ score, reasons: [], comment: "" }, 0), invalid, `score ${score}`);
    }
  });

  it("refuses an unknown reason, naming the known ones", () => {
    assert.throws(
      () => checkRating({ score: 3, reasons: ["too_loud"], comment: "" }, 0),
      (e: unknown) => invalid(e) && /audio_choppy/.test((e as Error).message),
    );
  });

  it(`refuses a comment over ${maxRatingCommentChars} characters and accepts one of exactly that length`, () => {
    const at = "x".repeat(maxRatingCommentChars);
    assert.equal(checkRating({ score: 3, reasons: [], comment: at }, 0).comment, at);
    assert.throws(() => checkRating({ score: 3, reasons: [], comment: `${at}x` }, 0), invalid);
  });

  it("sameRating ignores when a rating was made", () => {
    const a = checkRating({ score: 4, reasons: ["echo"], comment: "ok" }, 1);
    assert.ok(sameRating(a, checkRating({ score: 4, reasons: ["echo"], comment: "ok" }, 99)));
    assert.ok(!sameRating(a, checkRating({ score: 4, reasons: [], comment: "ok" }, 1)));
    assert.ok(!sameRating(a, checkRating({ score: 3, reasons: ["echo"], comment: "ok" }, 1)));
  });
});

describe("inRatingSample", () => {
  const ids = Array.from({ length: 4000 }, () => randomUUID());

  it("asks every call at rate 1 and none at rate 0", () => {
    assert.ok(ids.every((id) => inRatingSample(id, 1)));
    assert.ok(!ids.some((id) => inRatingSample(id, 0)));
  });

  it("asks about the configured share of calls", () => {
    const share = ids.filter((id) => inRatingSample(id, 0.1)).length / ids.length;
    assert.ok(share > 0.08 && share < 0.12, `share ${share}`);
  });

  it("gives the same answer for the same id, and a raised rate keeps every call a lower one asked", () => {
    for (const id of ids.slice(0, 200)) {
      assert.equal(inRatingSample(id, 0.3), inRatingSample(id, 0.3));
      if (inRatingSample(id, 0.1)) assert.ok(inRatingSample(id, 0.3));
    }
  });
});
