import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ControllerState,
  DEFAULT_CONTROLLER_OPTIONS,
  type Decision,
  decide,
  fittingStep,
  initialControllerState,
  type LinkStats,
} from "./controller.ts";
import { encodingForStep, LADDER, WORST_STEP } from "./ladder.ts";

const PERIOD_MS = 2_000;
const GOOD = { availableOutgoingBitrateBps: 2_500_000, fractionLost: 0, rttMs: 20 };

/** A synthetic trace: `seconds` of readings every 2 s, each built by `at(tMs)`. */
function trace(fromMs: number, seconds: number, at: (tMs: number) => Omit<LinkStats, "atMs">): LinkStats[] {
  const out: LinkStats[] = [];
  for (let t = fromMs; t < fromMs + seconds * 1000; t += PERIOD_MS) out.push({ atMs: t, ...at(t) });
  return out;
}

/** Runs the controller over a trace; returns every decision. */
function run(
  state: ControllerState,
  readings: readonly LinkStats[],
): { decisions: Decision[]; state: ControllerState } {
  const decisions: Decision[] = [];
  let s = state;
  for (const r of readings) {
    const d = decide(s, r);
    decisions.push(d);
    s = d.state;
  }
  return { decisions, state: s };
}

const changes = (ds: readonly Decision[]) => ds.filter((d) => d.changed);

describe("adaptive quality controller", () => {
  it("stays at the best step on a steady good link", () => {
    const { decisions } = run(
      initialControllerState(0),
      trace(0, 120, () => GOOD),
    );
    assert.equal(changes(decisions).length, 0);
    assert.ok(decisions.every((d) => d.step === 0));
  });

  it("ignores a single noisy reading (hysteresis)", () => {
    const readings = trace(0, 60, (t) => (t === 20_000 ? { ...GOOD, fractionLost: 0.12, rttMs: 700 } : GOOD));
    const { decisions } = run(initialControllerState(0), readings);
    assert.equal(changes(decisions).length, 0);
  });

  it("steps down fast on a sudden loss burst, then recovers one step at a time", () => {
    const burst = (t: number) => t >= 20_000 && t < 26_000;
    const readings = trace(0, 120, (t) => (burst(t) ? { ...GOOD, fractionLost: 0.35, rttMs: 250 } : GOOD));
    const { decisions } = run(initialControllerState(0), readings);
    const first = decisions.findIndex((d) => d.changed);
    assert.equal(readings[first]?.atMs, 20_000, "severe loss steps down on the first bad reading");
    const worst = Math.max(...decisions.map((d) => d.step));
    assert.ok(worst >= 2 && worst < WORST_STEP, `burst of 3 readings lands mid-ladder, got ${worst}`);
    // Recovery: only single steps up, each at least the base hold apart, and back at the top by the end.
    const ups = decisions.map((d, i) => ({ d, at: readings[i]?.atMs ?? 0 })).filter((x) => x.d.reason === "recovered");
    assert.equal(ups.length, worst);
    for (let i = 1; i < ups.length; i++) {
      const gap = (ups[i]?.at ?? 0) - (ups[i - 1]?.at ?? 0);
      assert.ok(gap >= DEFAULT_CONTROLLER_OPTIONS.upHoldMs, `steps up ${gap} ms apart`);
    }
    assert.equal(decisions.at(-1)?.step, 0);
    assert.ok((ups[0]?.at ?? 0) >= 26_000 + DEFAULT_CONTROLLER_OPTIONS.upHoldMs - PERIOD_MS);
  });

  it("follows a slow bandwidth decay down without overshooting and never steps up while it decays", () => {
    // 2.5 Mbps falling 50 kbps per reading to 100 kbps, loss creeping up a little.
    const readings = trace(0, 110, (t) => ({
      availableOutgoingBitrateBps: Math.max(100_000, 2_500_000 - (t / PERIOD_MS) * 50_000),
      fractionLost: Math.min(0.04, t / 1_000_000),
      rttMs: 40,
    }));
    const { decisions } = run(initialControllerState(0), readings);
    for (let i = 1; i < decisions.length; i++) {
      assert.ok((decisions[i]?.step ?? 0) >= (decisions[i - 1]?.step ?? 0), "monotonic decay");
    }
    // Within two readings of any point, the rung's need is covered by the estimate (ratio 0.75).
    for (let i = 2; i < decisions.length; i++) {
      const rung = LADDER[decisions[i]?.step ?? 0];
      const bwe = readings[i - 2]?.availableOutgoingBitrateBps ?? 0;
      assert.ok(!rung || rung.maxBitrateBps * 0.75 <= bwe, `step ${rung?.name} at ${bwe} bps`);
    }
    // 100 kbps does not carry 180p10 (150 kbps): it ends audio-only.
    assert.equal(decisions.at(-1)?.step, WORST_STEP);
    assert.ok(changes(decisions).every((d) => d.reason === "bandwidth"));
  });

  it("recovers from audio-only to the best step when the link comes back", () => {
    const start: ControllerState = { ...initialControllerState(0, WORST_STEP), lastUpMs: null };
    const { decisions } = run(
      start,
      trace(0, 120, () => GOOD),
    );
    const steps = decisions.map((d) => d.step);
    assert.equal(steps.at(-1), 0);
    assert.deepEqual(
      changes(decisions).map((d) => d.step),
      [4, 3, 2, 1, 0],
      "climbs one rung at a time",
    );
  });

  it("backs off on a link that fails every probe (no flapping)", () => {
    // 380 kbps: clean at 270p15 (300 k), too little for 360p24 (550 k × 0.75) once its probe grace ends.
    const readings = trace(0, 240, () => ({ availableOutgoingBitrateBps: 380_000, fractionLost: 0, rttMs: 30 }));
    const out = run(initialControllerState(0, 3), readings);
    const probes = out.decisions.flatMap((d, i) => (d.reason === "recovered" ? [readings[i]?.atMs ?? 0] : []));
    const failures = out.decisions.filter((d) => d.changed && d.reason === "bandwidth").length;
    assert.ok(probes.length >= 3, "it keeps probing");
    assert.ok(failures >= probes.length - 1, "each probe fails");
    const gaps = probes.slice(1).map((t, i) => t - (probes[i] ?? 0));
    for (let i = 1; i < gaps.length; i++) assert.ok((gaps[i] ?? 0) >= (gaps[i - 1] ?? 0), `gaps grow: ${gaps}`);
    assert.ok((gaps.at(-1) ?? 0) >= 2.5 * (gaps[0] ?? 0), `holds doubled: ${gaps}`);
    assert.ok(probes.length <= 5, `at most 5 probes in 240 s, got ${probes.length}`);
    assert.equal(out.state.upHoldMs, DEFAULT_CONTROLLER_OPTIONS.maxUpHoldMs);
    assert.ok(out.decisions.every((d) => d.step >= 2));
  });

  it("steps down on sustained high RTT, and on moderate loss one rung per two bad readings", () => {
    const rtt = run(
      initialControllerState(0),
      trace(0, 30, (t) => (t >= 10_000 ? { ...GOOD, rttMs: 900 } : GOOD)),
    );
    assert.equal(changes(rtt.decisions)[0]?.reason, "rtt");
    const lossOnly = run(
      initialControllerState(0),
      trace(0, 20, (t) => ({ fractionLost: t >= 10_000 ? 0.1 : 0 })),
    );
    // Five readings at 10 % loss (no estimate known): down at the 2nd and the 4th.
    assert.deepEqual(
      lossOnly.decisions.filter((d) => d.changed).map((d) => [d.step, d.reason]),
      [
        [1, "loss"],
        [2, "loss"],
      ],
    );
  });
});

describe("ladder", () => {
  it("maps steps to sender encodings", () => {
    assert.deepEqual(encodingForStep(0, 720), {
      active: true,
      maxBitrate: 1_600_000,
      scaleResolutionDownBy: 1,
      maxFramerate: 30,
    });
    assert.deepEqual(encodingForStep(2, 720), {
      active: true,
      maxBitrate: 550_000,
      scaleResolutionDownBy: 2,
      maxFramerate: 24,
    });
    assert.equal(encodingForStep(4, 360).scaleResolutionDownBy, 2);
    assert.equal(encodingForStep(1, 360).scaleResolutionDownBy, 1, "never upscales");
    assert.deepEqual(encodingForStep(WORST_STEP, 720), { active: false });
  });

  it("finds the best step that fits a bitrate", () => {
    assert.equal(fittingStep(5_000_000), 0);
    assert.equal(fittingStep(600_000), 2);
    assert.equal(fittingStep(150_000), 4);
    assert.equal(fittingStep(50_000), WORST_STEP);
  });
});
