/**
 * No call record is lost when Cassandra goes down (PRODUCT.md §7, §12): the scenario
 * (cassandra-outage-scenario.ts, in a process of its own) keeps calls flowing through the
 * outbox-wrapped Cassandra store while a private node is killed and restarted, then checks
 * that every call, outcome and sample is in Cassandra exactly once. Uses a private node (the
 * shared one of scripts/services/cassandra.ts keeps serving other tests), from the same jar cache.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { testContactPoint } from "../src/adapters/store/cassandra/test-support.ts";
import type { OutageResult } from "./cassandra-outage-scenario.ts";
import { runScenarioScript } from "./support/scenario-process.ts";

testContactPoint(); // fails clearly unless `npm test` provisioned Cassandra

test("calls made while the Cassandra node is down are all stored exactly once after it returns", async () => {
  const r = await runScenarioScript<OutageResult>("test/cassandra-outage-scenario.ts");
  assert.equal(r.error, undefined, r.error);
  assert.ok(r.queuedAtRestart > 0, `writes were queued during the outage: ${JSON.stringify(r)}`);
  assert.ok(r.calls >= 80, `calls before, during and after the outage: ${r.calls}`);
  assert.equal(r.checked, r.calls, "every call was checked in Cassandra");
});
