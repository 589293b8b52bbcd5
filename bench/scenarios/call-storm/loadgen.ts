/**
 * Child process: the call-start storm. Connects `pairs` caller/callee devices, then each caller
 * runs calls back to back: startCall → (callee: incomingCall → accept) → callAccepted → hangup →
 * callEnded → next call. Reports `opened`, `measure-start`, `measure-end`, then `result`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CallOutcome } from "../../../gen/calldrop/v1/call_pb.js";
import { HangupReason, type ServerEvent } from "../../../gen/calldrop/v1/signal_pb.js";
import { createParentLink } from "../../lib/child-side.ts";
import { summarize } from "../../lib/stats.ts";
import { type CallPair, closePairs, connectPairs } from "../full-server/pairs.ts";
import { createErrorLog } from "../relay-transport/load/pairs.ts";
import type { StormResult, StormSpec } from "./protocol.ts";

const drainMs = 5000;
const parent = createParentLink(5 * 60_000);

type Slot = { startedAt: number; counted: boolean; live: boolean; rang: boolean };

async function run(spec: StormSpec): Promise<StormResult> {
  const errors = createErrorLog();
  const now = () => performance.now();
  const samples = { ringing: [] as number[], incoming: [] as number[], accepted: [] as number[] };
  const slots: Slot[] = Array.from({ length: spec.pairs }, () => ({
    startedAt: 0,
    counted: false,
    live: false,
    rang: false,
  }));
  const byIndex: CallPair[] = [];
  const otherOutcomes: Record<string, number> = {};
  let windowOpen = false;
  let running = false;
  let started = 0;
  let startedInWindow = 0;
  let completed = 0;
  let completedInWindow = 0;
  let commandsSent = 0;
  let eventsReceived = 0;
  let live = 0;

  const send = (pair: CallPair, side: "caller" | "callee", kind: Parameters<CallPair["caller"]["send"]>[0]) => {
    if (windowOpen) commandsSent += 1;
    pair[side].send(kind);
  };
  const startCall = (index: number) => {
    const pair = byIndex[index];
    const slot = slots[index];
    if (!pair || !slot || !running || started >= spec.maxCalls) return;
    started += 1;
    live += 1;
    Object.assign(slot, { startedAt: now(), counted: windowOpen, live: true, rang: false });
    if (windowOpen) startedInWindow += 1;
    send(pair, "caller", { case: "startCall", value: { calleeUserId: pair.callee.userId, video: true } });
  };
  const caller = (index: number, event: ServerEvent) => {
    if (windowOpen) eventsReceived += 1;
    const slot = slots[index];
    const pair = byIndex[index];
    if (!slot || !pair) return;
    const k = event.kind;
    if (k.case === "ringing") {
      if (slot.counted) samples.ringing.push(now() - slot.startedAt);
    } else if (k.case === "callAccepted") {
      if (slot.counted) samples.accepted.push(now() - slot.startedAt);
      send(pair, "caller", { case: "hangup", value: { callId: k.value.callId, reason: HangupReason.NORMAL } });
    } else if (k.case === "callEnded") {
      if (!slot.live) return;
      slot.live = false;
      live -= 1;
      if (k.value.outcome === CallOutcome.COMPLETED) {
        if (slot.counted) completed += 1;
        if (windowOpen) completedInWindow += 1;
      } else {
        otherOutcomes[k.value.outcome] = (otherOutcomes[k.value.outcome] ?? 0) + 1;
      }
      startCall(index);
    } else if (k.case === "error") {
      errors.add(`caller ${index}: ${k.value.code} ${k.value.message}`);
      if (slot.live) {
        // A refused command leaves no call to end: retry the loop shortly rather than stall.
        slot.live = false;
        live -= 1;
        setTimeout(() => startCall(index), 50);
      }
    }
  };
  const callee = (index: number, event: ServerEvent) => {
    if (windowOpen) eventsReceived += 1;
    const slot = slots[index];
    const pair = byIndex[index];
    if (!slot || !pair) return;
    const k = event.kind;
    if (k.case === "incomingCall") {
      if (slot.counted) samples.incoming.push(now() - slot.startedAt);
      send(pair, "callee", { case: "accept", value: { callId: k.value.callId } });
    } else if (k.case === "error") errors.add(`callee ${index}: ${k.value.code} ${k.value.message}`);
  };

  const t0 = now();
  const pairs = await connectPairs(spec.port, `storm${process.pid}.`, spec.pairs, { caller, callee }, errors);
  const openMs = now() - t0;
  for (const p of pairs) byIndex[p.index] = p;
  parent.send({ type: "opened", devices: pairs.length * 2, openMs });

  running = true;
  for (const p of pairs) startCall(p.index);
  await sleep(spec.warmupMs);
  windowOpen = true;
  const windowStart = now();
  parent.send({ type: "measure-start" });
  await sleep(spec.measureMs);
  windowOpen = false;
  const measuredMs = now() - windowStart;
  parent.send({ type: "measure-end" });
  running = false;
  const drainUntil = now() + drainMs;
  while (live > 0 && now() < drainUntil) await sleep(20);
  const result: StormResult = {
    started: startedInWindow,
    completed,
    completedInWindow,
    measuredMs,
    startToRinging: summarize(samples.ringing),
    startToIncoming: summarize(samples.incoming),
    startToAccepted: summarize(samples.accepted),
    commandsSent,
    eventsReceived,
    otherOutcomes,
    errors: errors.count,
    errorSamples: errors.samples,
    unfinished: live,
    openMs,
  };
  await closePairs(pairs);
  return result;
}

parent.on("start", (message) => {
  run(message.spec as StormSpec).then(
    (result) => process.send?.({ type: "result", result }, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
});
