import type { LatencySummary } from "../../lib/stats.ts";

/** What the consumers child opens: `consumers` Subscribe streams, each the only member of its own group. */
export type ConsumersSpec = { port: number; groups: string[] };

/** The consumers' count over the measurement window. */
export type ConsumersCount = {
  type: "counted";
  measuredMs: number;
  /** Events received by all streams together. */
  events: number;
  /** Event fact (occurred_at) → received by a consumer, ms. */
  lag: LatencySummary;
  errors: number;
  errorSamples: string[];
};
