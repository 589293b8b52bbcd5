import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Assumptions,
  capacityRows,
  cassandraLoad,
  cpuDemand,
  defaultAssumptions,
  directoryLoad,
  etcdLoad,
  type MeasuredInputs,
  signalingPods,
  turnLoad,
  workload,
} from "./capacity.ts";

const measured: MeasuredInputs = {
  rssKbPerDevice: 50,
  baselineRssMb: 100,
  cpuMsPerConnect: 1,
  idleCpuUsPerDeviceSecond: 2,
  cpuMsPerCallLifecycle: 1,
  cpuUsPerRelayedMessage: 100,
  cpuUsPerQualityReport: 200,
  sampleWritesPerReport: 1 / 12,
  sampleBytesPerReport: 80,
  cpuUsPerForwardedMessage: 50,
  etcdDirectoryBytesPerCall: 552,
  etcdDirectoryRevisionsPerCall: 5,
};

describe("capacity model", () => {
  it("derives the peak workload from the assumptions", () => {
    const w = workload(defaultAssumptions);
    assert.equal(w.devicesInCalls, 1_000_000);
    assert.equal(w.connectedDevices, 5_000_000);
    assert.ok(Math.abs(w.avgCallsPerSecond - 578.7) < 0.1); // 50M / 86,400
    assert.ok(Math.abs(w.peakCallsPerSecond - 1666.67) < 0.01); // 500k calls / 300 s
    assert.equal(w.qualityReportsPerSecond, 200_000); // 1M participants / 5 s
    assert.ok(Math.abs(w.relayedPerSecond - 1666.67 * 26) < 1);
    assert.ok(Math.abs(w.connectsPerSecond - 8333.33) < 0.01);
  });

  it("prices each CPU component with its measured unit cost", () => {
    const a: Assumptions = {
      ...defaultAssumptions,
      concurrentCalls: 1000,
      idleDevices: 0,
      meanCallSeconds: 100, // 10 calls/s
      qualityReportSeconds: 10, // 200 reports/s
      deviceSessionSeconds: 2000, // 1 connect/s
      relayedCommandsPerCall: 10, // 100 relayed/s
      crossPodShare: 0.5,
      peakRps: 0,
    };
    const cpu = cpuDemand(measured, a);
    assert.equal(cpu.idle, 2000 * 2e-6);
    assert.equal(cpu.connects, 1e-3);
    assert.equal(cpu.callLifecycle, 10e-3);
    assert.ok(Math.abs(cpu.relayed - 100 * 100e-6) < 1e-12);
    // Relayed + call events + the half of the reports sent by the participant off the owner's pod.
    assert.ok(Math.abs(cpu.forwarding - (100 + 30 + 100) * 0.5 * 50e-6) < 1e-12);
    assert.ok(Math.abs(cpu.qualityReports - 200 * 200e-6) < 1e-12);
    assert.equal(cpu.rpsTopUp, 0);
    assert.ok(Math.abs(cpu.total - (0.004 + 0.001 + 0.01 + 0.01 + 0.00575 + 0.04)) < 1e-12);
    // A seed RPS above the modelled command rate is priced as extra relayed messages.
    const topped = cpuDemand(measured, { ...a, peakRps: 10_000 });
    assert.ok(topped.rpsTopUp > 0.9 && topped.rpsTopUp < 1);
  });

  it("sizes pods by the tighter of memory and CPU, with headroom", () => {
    const a: Assumptions = { ...defaultAssumptions, podMemoryGiB: 1, usableMemoryShare: 1, headrooms: [1, 2] };
    const pods = signalingPods({ ...measured, baselineRssMb: 24 }, a);
    assert.equal(pods.devicesPerPod, Math.floor((1024 * 1024 - 24 * 1024) / 50)); // 20,480
    assert.deepEqual(pods.byMemory, [Math.ceil(5_000_000 / 20_480), Math.ceil(10_000_000 / 20_480)]);
    assert.deepEqual(
      pods.byCpu,
      [1, 2].map((h) => Math.ceil(pods.cpu.total * h)),
    );
    assert.deepEqual(
      pods.pods,
      pods.byMemory.map((m, i) => Math.max(m, pods.byCpu[i] ?? 0)),
    );
  });

  it("counts etcd writes per device session, one lease per pod, and a watch fan-out that ignores the pod count", () => {
    const e = etcdLoad({ ...defaultAssumptions, headrooms: [2] }, 100);
    assert.ok(Math.abs(e.writesPerSecond - 16_666.67) < 0.01); // 5M devices / 600 s × 2
    assert.equal(e.leases, 100);
    assert.equal(e.keepalivesPerSecond, 30); // 100 leases, keepalive every TTL/3 = 3.33 s
    // 1M of 5M devices are in calls, each user watched by 2 nodes: 0.4 events per change.
    assert.ok(Math.abs(e.watchEventsPerSecond - 16_666.67 * 0.4) < 0.01);
    assert.equal(e.watches, 2_000_000);
    assert.equal(etcdLoad({ ...defaultAssumptions, headrooms: [2] }, 300).watchEventsPerSecond, e.watchEventsPerSecond);
    assert.deepEqual(e.clusters, [2]); // 33.3k writes/s at 2x over 20k per cluster
  });

  it("counts Cassandra writes per call (rows, LWTs, batchlog) and samples, times the replication factor", () => {
    const c = cassandraLoad(measured, { ...defaultAssumptions, headrooms: [1] });
    assert.equal(c.writeEquivalentsPerCall, 15 + 2 * 4 + 3 * 2);
    assert.ok(Math.abs(c.callWritesPerSecond - 1666.67 * 29) < 1);
    assert.ok(Math.abs(c.sampleWritesPerSecond - 200_000 / 12) < 0.01, "one row per call window of 12 reports");
    assert.ok(Math.abs(c.replicaWritesPerSecond - (1666.67 * 29 + 200_000 / 12) * 3) < 10);
    assert.deepEqual(c.nodes, [Math.ceil(c.replicaWritesPerSecond / 25_000)]);
  });

  it("stores samples at their window bytes plus each row's overhead shared by the window", () => {
    const a = { ...defaultAssumptions, headrooms: [1] };
    const rolled = cassandraLoad(measured, a);
    const unrolled = cassandraLoad({ sampleWritesPerReport: 1, sampleBytesPerReport: 140 }, a);
    assert.equal(unrolled.sampleWritesPerSecond, 200_000, "a row per report, as before windows");
    // Average concurrency 578.7 calls/s × 300 s × 2 participants / 5 s, 30 days, RF 3.
    const samplesStored = ((2 * (50_000_000 / 86_400) * 300) / 5) * 86_400 * 30 * 3;
    assert.ok(Math.abs(rolled.sampleStorageTb - (samplesStored * (80 + 60 / 12)) / 1e12) < 1e-9);
    assert.ok(Math.abs(unrolled.sampleStorageTb - (samplesStored * 200) / 1e12) < 1e-9);
  });

  it("gives TURN bandwidth for the relayed share, both directions through the relay", () => {
    const t = turnLoad({ ...defaultAssumptions, headrooms: [1, 3] });
    assert.equal(t.relayedCalls, 100_000);
    assert.equal(t.gbitPerDirection, 300); // 100k × 2 × 1.5 Mbit/s
    assert.deepEqual(t.servers, [Math.ceil(300 / 7), Math.ceil(900 / 7)]);
  });

  it("sizes the call directory in etcd from bytes and revisions per call", () => {
    const d = directoryLoad(measured, { ...defaultAssumptions, headrooms: [2, 3] });
    assert.equal(d.bytes, 500_000 * 552);
    assert.equal(d.writesPerSecond, (500_000 / 300) * 5);
    assert.ok(Math.abs(d.quotaShare - (500_000 * 552) / 8 / 2 ** 30) < 1e-12);
    assert.deepEqual(d.clusters, [1, 2]);
  });

  it("renders one row per resource with units per headroom", () => {
    const rows = capacityRows(measured, defaultAssumptions);
    assert.deepEqual(
      rows.map((r) => r.resource),
      [
        "signaling pods, by memory",
        "signaling pods, by CPU",
        "signaling pods (max of the two)",
        "etcd clusters (presence writes)",
        "etcd call directory (writes)",
        "Cassandra nodes",
        "TURN servers",
      ],
    );
    for (const r of rows) assert.equal(r.units.length, defaultAssumptions.headrooms.length);
  });
});
