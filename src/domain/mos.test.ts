/** Unit tests of the E-model MOS estimate against published reference points (docs/spec.md §15). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CodecImpairment,
  defaultR,
  delayImpairment,
  lossImpairment,
  mosFromR,
  mosOf,
  oneWayDelayMs,
  opus,
  rFactor,
  verdictOf,
} from "./mos.ts";

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);

/** G.729A with VAD, G.113 Appendix I Table I.1: a codec that is not transparent and conceals worse. */
const g729a: CodecImpairment = { ie: 11, bpl: 19, packetMs: 20 };

describe("mosFromR (G.107 Annex B)", () => {
  it("gives 4.41 for the default R of 93.2, a connection with no impairment", () => {
    assert.equal(defaultR, 93.2);
    near(mosFromR(93.2), 4.41, 0.005, "MOS(93.2)");
  });

  it("matches the MOS of G.109's category boundaries: R 90, 80, 70, 60, 50 → 4.34, 4.03, 3.60, 3.10, 2.58", () => {
    const table: [number, number][] = [
      [90, 4.34],
      [80, 4.03],
      [70, 3.6],
      [60, 3.1],
      [50, 2.58],
    ];
    // G.109 Table 1 prints two decimals (80 → 4.03 for 4.024), hence ± 0.01.
    for (const [r, mos] of table) near(mosFromR(r), mos, 0.01, `MOS(${r})`);
  });

  it("is 1 at R ≤ 0 and 4.5 at R ≥ 100, and never leaves 1–4.5 nor falls as R rises", () => {
    assert.equal(mosFromR(-5), 1);
    assert.equal(mosFromR(0), 1);
    assert.equal(mosFromR(100), 4.5);
    assert.equal(mosFromR(120), 4.5);
    let previous = 1;
    for (let r = 0; r <= 100; r += 0.25) {
      const mos = mosFromR(r);
      assert.ok(mos >= 1 && mos <= 4.5, `MOS(${r}) = ${mos}`);
      assert.ok(mos >= previous, `MOS(${r}) = ${mos} < MOS(${r - 0.25}) = ${previous}`);
      previous = mos;
    }
  });
});

describe("delayImpairment (Cole and Rosenbluth's fit of G.107 Idd)", () => {
  it("grows 0.024 per ms up to 177.3 ms, then 0.134 per ms", () => {
    assert.equal(delayImpairment(0), 0);
    near(delayImpairment(150), 3.6, 1e-9, "Id(150 ms), G.114's limit for most applications");
    near(delayImpairment(177.3), 4.2552, 1e-9, "Id(177.3 ms)");
    near(delayImpairment(300), 7.2 + 0.11 * 122.7, 1e-9, "Id(300 ms)");
    near(delayImpairment(400) - delayImpairment(300), 13.4, 1e-9, "100 ms more beyond the knee");
  });

  it("treats a negative delay as none", () => {
    assert.equal(delayImpairment(-10), 0);
  });
});

describe("lossImpairment (G.107 eq. 7-29, random loss)", () => {
  it("is Ie without loss and approaches 95 as all packets are lost", () => {
    assert.equal(lossImpairment(0, opus), 0);
    assert.equal(lossImpairment(0, g729a), 11);
    near(lossImpairment(1, opus), (95 * 100) / 125.1, 1e-9, "Ie,eff at 100 % loss");
  });

  it("uses Opus's Bpl of 25.1: 1 % → 3.64, 5 % → 15.78, 10 % → 27.07", () => {
    near(lossImpairment(0.01, opus), 3.64, 0.005, "1 %");
    near(lossImpairment(0.05, opus), 15.78, 0.005, "5 %");
    near(lossImpairment(0.1, opus), 27.07, 0.005, "10 %");
  });

  it("is codec-aware: a codec that conceals worse (lower Bpl) loses more at the same loss", () => {
    // G.729A at 2 %: 11 + 84·2/21 = 19.0.
    near(lossImpairment(0.02, g729a), 19, 1e-9, "G.729A at 2 %");
    assert.ok(lossImpairment(0.02, g729a) - 11 > lossImpairment(0.02, opus));
  });

  it("clamps loss outside 0–1", () => {
    assert.equal(lossImpairment(-0.2, opus), 0);
    assert.equal(lossImpairment(3, opus), lossImpairment(1, opus));
  });
});

describe("rFactor and mosOf", () => {
  it("adds half the RTT, a jitter buffer of twice the jitter and one 20 ms Opus packet", () => {
    assert.equal(oneWayDelayMs({ rttMs: 100, jitterMs: 10, fractionLost: 0 }, opus), 50 + 20 + 20);
    assert.equal(oneWayDelayMs({ rttMs: -1, jitterMs: -1, fractionLost: 0 }, opus), 20);
  });

  it("scores a clean LAN call just under the 4.41 ceiling", () => {
    const clean = { rttMs: 0, jitterMs: 0, fractionLost: 0 };
    near(rFactor(clean), 93.2 - 0.48, 1e-9, "R with only the packet delay");
    near(mosOf(clean), 4.4, 0.005, "MOS");
    assert.equal(verdictOf(mosOf(clean)), "good");
  });

  it("scores a typical internet call (100 ms RTT, 10 ms jitter, 1 % loss) about 4.27: good", () => {
    const typical = { rttMs: 100, jitterMs: 10, fractionLost: 0.01 };
    // R = 93.2 − 0.024·90 − 95·1/26.1 = 87.40.
    near(rFactor(typical), 87.4, 0.005, "R");
    near(mosOf(typical), 4.27, 0.005, "MOS");
    assert.equal(verdictOf(mosOf(typical)), "good");
  });

  it("scores 10 % loss fair and 20 % loss poor", () => {
    const at = (fractionLost: number) => mosOf({ rttMs: 40, jitterMs: 5, fractionLost });
    assert.equal(verdictOf(at(0.1)), "fair");
    assert.equal(verdictOf(at(0.2)), "poor");
  });

  it("scores a satellite-like 800 ms RTT poor even without loss", () => {
    const far = { rttMs: 800, jitterMs: 5, fractionLost: 0 };
    // d = 400 + 10 + 20 = 430 ms: Id = 10.32 + 27.80 = 38.12, R = 55.08.
    near(rFactor(far), 55.08, 0.005, "R");
    assert.equal(verdictOf(mosOf(far)), "poor");
  });

  it("keeps R within 0–100 when every impairment is extreme", () => {
    const worst = { rttMs: 10_000, jitterMs: 1_000, fractionLost: 1 };
    assert.equal(rFactor(worst), 0);
    assert.equal(mosOf(worst), 1);
  });
});

describe("verdictOf (G.109 bands)", () => {
  it("is good from R 70 (MOS 3.60), fair from R 60 (MOS 3.10), poor below", () => {
    assert.equal(verdictOf(4.5), "good");
    assert.equal(verdictOf(mosFromR(70)), "good");
    assert.equal(verdictOf(mosFromR(69.9)), "fair");
    assert.equal(verdictOf(mosFromR(60)), "fair");
    assert.equal(verdictOf(mosFromR(59.9)), "poor");
    assert.equal(verdictOf(1), "poor");
  });
});
