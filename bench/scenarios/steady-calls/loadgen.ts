/**
 * Child process: N concurrent calls in steady state. Each slot (a caller and a callee device)
 * loops: startCall → accept → SDP offer/answer → trickled ICE candidates both ways (+ end of
 * candidates) → mediaState connected → a quality report from each side every few seconds →
 * hangup after a random hold → next call. Offers, answers and candidates carry their send time,
 * so the peer measures each hop. Reports `opened`, `measure-start`, `measure-end`, `result`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { PathType } from "../../../gen/calldrop/v1/call_pb.js";
import { HangupReason, MediaConnectionState, SdpType, type ServerEvent } from "../../../gen/calldrop/v1/signal_pb.js";
import { createParentLink } from "../../lib/child-side.ts";
import { summarize } from "../../lib/stats.ts";
import type { CommandKind } from "../full-server/device.ts";
import { type CallPair, closePairs, connectPairs } from "../full-server/pairs.ts";
import { qualitySample } from "../full-server/quality-sample.ts";
import { candidateSentAt, sdpSentAt, stampedCandidate, stampSdp } from "../full-server/stamp.ts";
import { createErrorLog } from "../relay-transport/load/pairs.ts";
import { sdpLike } from "../relay-transport/payload.ts";
import type { SteadyResult, SteadySpec } from "./protocol.ts";

const parent = createParentLink(10 * 60_000);
type Side = "caller" | "callee";
type SideState = { sentAll: boolean; peerDone: boolean; connected: boolean };
type Slot = {
  pair: CallPair;
  generation: number;
  callId: string;
  startedAt: number;
  acceptedAt: number;
  counted: boolean;
  phase: "idle" | "calling" | "connected";
  sides: Record<Side, SideState>;
  timers: NodeJS.Timeout[];
};

async function run(spec: SteadySpec): Promise<SteadyResult> {
  const errors = createErrorLog();
  const now = () => performance.now();
  const hops = { description: [] as number[], candidate: [] as number[] };
  const setup = { ringing: [] as number[], accepted: [] as number[] };
  const slots: Slot[] = [];
  const c = { commands: 0, events: 0, relayed: 0, quality: 0, started: 0, completed: 0 };
  const connectedSamples: number[] = [];
  let windowOpen = false;
  let running = false;
  const sdp = { offer: sdpLike(spec.sdpBytes, 1), answer: sdpLike(spec.sdpBytes, 2) };

  const pendingAcks = new Map<string, number>();
  const acks: number[] = [];
  const send = (slot: Slot, side: Side, kind: CommandKind) => {
    if (windowOpen) c.commands += 1;
    const commandId = slot.pair[side].send(kind);
    if (windowOpen) pendingAcks.set(commandId, now());
  };
  const acked = (commandId: string) => {
    const sentAt = pendingAcks.get(commandId);
    if (sentAt === undefined) return;
    pendingAcks.delete(commandId);
    acks.push(now() - sentAt);
  };
  const later = (slot: Slot, ms: number, fn: () => void) => {
    const generation = slot.generation;
    slot.timers.push(setTimeout(() => slot.generation === generation && fn(), ms));
  };
  const startCall = (slot: Slot) => {
    if (!running) return;
    slot.generation += 1;
    Object.assign(slot, { phase: "calling", startedAt: now(), counted: windowOpen, callId: "" });
    slot.sides = { caller: fresh(), callee: fresh() };
    if (windowOpen) c.started += 1;
    send(slot, "caller", { case: "startCall", value: { calleeUserId: slot.pair.callee.userId, video: true } });
  };
  const trickle = (slot: Slot, side: Side) => {
    const n = spec.candidatesPerSide;
    for (let k = 0; k < n; k++)
      later(slot, (k + 1) * spec.candidateGapMs, () =>
        send(slot, side, {
          case: "iceCandidate",
          value: {
            callId: slot.callId,
            candidate: stampedCandidate(side === "caller" ? "a" : "b", k, now()),
            sdpMid: "0",
          },
        }),
      );
    later(slot, (n + 1) * spec.candidateGapMs, () => {
      send(slot, side, { case: "iceCandidate", value: { callId: slot.callId, endOfCandidates: true } });
      slot.sides[side].sentAll = true;
      maybeConnected(slot, side);
    });
  };
  const maybeConnected = (slot: Slot, side: Side) => {
    const s = slot.sides[side];
    if (!s.sentAll || !s.peerDone || s.connected) return;
    s.connected = true;
    const setupMs = Math.round(now() - slot.acceptedAt);
    send(slot, side, {
      case: "mediaState",
      value: { callId: slot.callId, state: MediaConnectionState.CONNECTED, path: PathType.P2P, setupMs },
    });
    const report = () => {
      if (windowOpen) c.quality += 1;
      send(slot, side, { case: "qualityReport", value: { callId: slot.callId, sample: qualitySample() } });
    };
    later(slot, Math.random() * spec.qualityEveryMs, () => {
      report();
      const generation = slot.generation;
      const every = setInterval(
        () => (slot.generation === generation ? report() : clearInterval(every)),
        spec.qualityEveryMs,
      );
      slot.timers.push(every);
    });
    if (side === "caller") {
      slot.phase = "connected";
      const [min, max] = spec.holdMs;
      later(slot, min + Math.random() * (max - min), () =>
        send(slot, "caller", { case: "hangup", value: { callId: slot.callId, reason: HangupReason.NORMAL } }),
      );
    }
  };
  const relayed = (slot: Slot, side: Side, event: ServerEvent) => {
    const k = event.kind;
    if (k.case === "description") {
      const sent = sdpSentAt(k.value.sdp);
      if (windowOpen && sent !== undefined) hops.description.push(now() - sent);
      if (windowOpen) c.relayed += 1;
      if (k.value.type === SdpType.OFFER && side === "callee") {
        send(slot, "callee", {
          case: "description",
          value: { callId: slot.callId, type: SdpType.ANSWER, sdp: stampSdp(sdp.answer, now()) },
        });
        trickle(slot, "callee");
      }
    } else if (k.case === "iceCandidate") {
      if (windowOpen) c.relayed += 1;
      if (k.value.endOfCandidates) {
        slot.sides[side].peerDone = true;
        maybeConnected(slot, side);
        return;
      }
      const sent = candidateSentAt(k.value.candidate);
      if (windowOpen && sent !== undefined) hops.candidate.push(now() - sent);
    }
  };
  const onEvent = (side: Side) => (index: number, event: ServerEvent) => {
    if (windowOpen) c.events += 1;
    const slot = slots[index];
    if (!slot) return;
    const k = event.kind;
    switch (k.case) {
      case "commandResult":
        return acked(k.value.commandId);
      case "ringing":
        if (slot.counted) setup.ringing.push(now() - slot.startedAt);
        return;
      case "incomingCall":
        slot.callId = k.value.callId;
        send(slot, "callee", { case: "accept", value: { callId: k.value.callId } });
        return;
      case "callAccepted":
        if (side !== "caller") return;
        slot.callId = k.value.callId;
        slot.acceptedAt = now();
        if (slot.counted) setup.accepted.push(now() - slot.startedAt);
        send(slot, "caller", {
          case: "description",
          value: { callId: slot.callId, type: SdpType.OFFER, sdp: stampSdp(sdp.offer, now()) },
        });
        trickle(slot, "caller");
        return;
      case "description":
      case "iceCandidate":
        return relayed(slot, side, event);
      case "callEnded":
        if (side !== "caller" || slot.phase === "idle") return;
        if (windowOpen && slot.phase === "connected") c.completed += 1;
        slot.phase = "idle";
        for (const t of slot.timers) clearTimeout(t);
        slot.timers = [];
        slot.generation += 1;
        setTimeout(() => startCall(slot), Math.random() * 200);
        return;
      case "error":
        acked(k.value.commandId);
        errors.add(`${side} ${index}: ${k.value.code} ${k.value.message}`);
        return;
    }
  };

  const t0 = now();
  const pairs = await connectPairs(
    spec.port,
    `steady${process.pid}.`,
    spec.calls,
    { caller: onEvent("caller"), callee: onEvent("callee") },
    errors,
  );
  const openMs = now() - t0;
  for (const pair of pairs)
    slots[pair.index] = {
      pair,
      generation: 0,
      callId: "",
      startedAt: 0,
      acceptedAt: 0,
      counted: false,
      phase: "idle",
      sides: { caller: fresh(), callee: fresh() },
      timers: [],
    };
  parent.send({ type: "opened", devices: pairs.length * 2, openMs });

  running = true;
  const ramp = pairs.map((p) => setTimeout(() => startCall(slots[p.index] as Slot), Math.random() * spec.rampMs));
  await sleep(spec.rampMs + spec.warmupMs);
  windowOpen = true;
  const windowStart = now();
  parent.send({ type: "measure-start" });
  const sampler = setInterval(() => connectedSamples.push(slots.filter((s) => s?.phase === "connected").length), 1000);
  await sleep(spec.measureMs);
  windowOpen = false;
  clearInterval(sampler);
  const measuredMs = now() - windowStart;
  parent.send({ type: "measure-end" });
  running = false;
  for (const t of ramp) clearTimeout(t);
  for (const s of slots) if (s) for (const t of s.timers) clearTimeout(t);
  const connected = summarize(connectedSamples);
  const result: SteadyResult = {
    measuredMs,
    descriptionHop: summarize(hops.description),
    candidateHop: summarize(hops.candidate),
    hop: summarize([...hops.description, ...hops.candidate]),
    startToRinging: summarize(setup.ringing),
    startToAccepted: summarize(setup.accepted),
    ack: summarize(acks),
    commandsSent: c.commands,
    eventsReceived: c.events,
    relayedReceived: c.relayed,
    qualityReports: c.quality,
    callsStarted: c.started,
    callsCompleted: c.completed,
    connectedCalls: { min: connectedSamples.length ? Math.min(...connectedSamples) : 0, mean: connected.mean },
    errors: errors.count,
    errorSamples: errors.samples,
    openMs,
  };
  await closePairs(pairs);
  return result;
}

function fresh(): SideState {
  return { sentAll: false, peerDone: false, connected: false };
}

parent.on("start", (message) => {
  run(message.spec as SteadySpec).then(
    (result) => process.send?.({ type: "result", result }, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
});
