import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cpuPercent,
  createMachineReader,
  createProcReader,
  parseMachineTicks,
  parseStatTicks,
  parseStatusKb,
} from "./proc-stats.ts";

describe("parseStatTicks", () => {
  it("sums utime and stime even when the command name has spaces and parens", () => {
    const stat = "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 9000 0 12 0 350 75 0 0 20 0 11 0 777 1e9 30000";
    assert.equal(parseStatTicks(stat), 425);
  });

  it("rejects garbage", () => {
    assert.throws(() => parseStatTicks("nonsense"));
  });
});

describe("parseStatusKb", () => {
  const status = "Name:\tnode\nVmHWM:\t  123456 kB\nVmRSS:\t   65536 kB\nThreads:\t11\n";

  it("reads kB lines as bytes", () => {
    assert.equal(parseStatusKb(status, "VmRSS"), 65536 * 1024);
    assert.equal(parseStatusKb(status, "VmHWM"), 123456 * 1024);
  });

  it("throws for a missing key", () => {
    assert.throws(() => parseStatusKb(status, "VmSwap"), /VmSwap/);
  });
});

describe("cpuPercent", () => {
  it("relates CPU time to wall time", () => {
    const a = { atMs: 1000, cpuMs: 200, rssBytes: 0, hwmBytes: 0 };
    const b = { atMs: 3000, cpuMs: 1700, rssBytes: 0, hwmBytes: 0 };
    assert.equal(cpuPercent(a, b), 75);
    assert.equal(cpuPercent(a, a), 0);
  });
});

describe("createProcReader", () => {
  it("reads this process", () => {
    const s = createProcReader()(process.pid);
    assert.ok(s.rssBytes > 1024 * 1024 && s.hwmBytes >= s.rssBytes && s.cpuMs > 0);
  });
});

describe("parseMachineTicks", () => {
  it("counts all but idle and iowait as busy", () => {
    const stat = "cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 50 2 25 400 10 1 1 5 0 0\nintr 1\n";
    assert.deepEqual(parseMachineTicks(stat), { busy: 170, total: 990 });
  });

  it("reads this machine", () => {
    const s = createMachineReader()();
    assert.ok(s.cpuMs > 0);
  });
});
