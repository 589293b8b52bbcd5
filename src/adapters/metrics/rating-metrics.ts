/**
 * Post-call rating metrics (docs/spec.md §11, §15): ratings by score and the reasons they give,
 * each participant's first rating of a call counted once. No user or call ids as labels; every
 * score and reason starts at 0.
 */
import { Counter, type Registry } from "prom-client";
import type { RatingMetrics } from "../../app/ports/metrics.ts";
import { ratingReasons } from "../../domain/rating.ts";

/** Creates and registers the rating metrics on `registry`. */
export function createRatingMetrics(registry: Registry): RatingMetrics {
  const registers = [registry];
  const ratings = new Counter({
    name: "calldrop_call_ratings_total",
    help: "Post-call ratings by score (1-5), each participant's first rating of a call.",
    labelNames: ["score"] as const,
    registers,
  });
  const reasons = new Counter({
    name: "calldrop_call_rating_reasons_total",
    help: "Reasons given in post-call ratings, by reason.",
    labelNames: ["reason"] as const,
    registers,
  });
  for (const score of [1, 2, 3, 4, 5]) ratings.inc({ score }, 0);
  for (const reason of ratingReasons) reasons.inc({ reason }, 0);
  return {
    rated(rating) {
      ratings.inc({ score: rating.score });
      for (const reason of rating.reasons) reasons.inc({ reason });
    },
  };
}
