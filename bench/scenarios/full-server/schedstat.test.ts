import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSchedstat, waitPercent } from "./schedstat.ts";

describe("schedstat", () => {
  it("parses run and wait nanoseconds", () => {
    assert.deepEqual(parseSchedstat("905891 3860747 6\n"), { runNs: 905891, waitNs: 3860747 });
    assert.throws(() => parseSchedstat("garbage"));
  });

  it("gives the share of wall time spent waiting for a CPU", () => {
    const from = { atMs: 1000, runNs: 0, waitNs: 0 };
    const to = { atMs: 2000, runNs: 5e8, waitNs: 2.5e8 }; // 250 ms waiting in 1 s
    assert.equal(waitPercent(from, to), 25);
    assert.equal(waitPercent(from, from), 0);
  });
});
