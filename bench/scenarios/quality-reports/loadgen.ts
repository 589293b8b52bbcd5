/**
 * Child process: N connected calls on the full server (startCall → accept → mediaState
 * connected on both sides), then each device sends one command every `everyMs` for the
 * window: a quality report, or an SDP description its peer receives (the relayed message the
 * report is compared with). Counts the server's sample writes from its /metrics around the window.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { PathType } from "../../../gen/calldrop/v1/call_pb.js";
import { MediaConnectionState, SdpType, type ServerEvent } from "../../../gen/calldrop/v1/signal_pb.js";
import { createParentLink } from "../../lib/child-side.ts";
import { type CallPair, closePairs, connectPairs } from "../full-server/pairs.ts";
import { qualitySample } from "../full-server/quality-sample.ts";
import { createErrorLog } from "../relay-transport/load/pairs.ts";
import { sdpLike } from "../relay-transport/payload.ts";
import type { QualityResult, QualitySpec } from "./protocol.ts";

const parent = createParentLink(10 * 60_000);
type Side = "caller" | "callee";

/** The server's count of quality-sample window writes so far. */
async function sampleWrites(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const line = text
    .split("\n")
    .find(
      (l) => l.startsWith("calldrop_store_operation_seconds_count{") && l.includes('operation="add_sample_window"'),
    );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function run(spec: QualitySpec): Promise<QualityResult> {
  const errors = createErrorLog();
  const c = { sent: 0, acked: 0, relayed: 0 };
  let windowOpen = false;
  const callIds: string[] = [];
  const ready = new Set<number>();
  let onReady: (() => void) | undefined;
  const sdp = sdpLike(spec.sdpBytes, 1);

  const onEvent = (side: Side) => (index: number, event: ServerEvent) => {
    const k = event.kind;
    const pair = byIndex.get(index);
    switch (k.case) {
      case "commandResult":
        if (windowOpen) c.acked += 1;
        return;
      case "incomingCall":
        pair?.callee.send({ case: "accept", value: { callId: k.value.callId } });
        return;
      case "callAccepted": {
        callIds[index] = k.value.callId;
        const state = {
          callId: k.value.callId,
          state: MediaConnectionState.CONNECTED,
          path: PathType.P2P,
          setupMs: 300,
        };
        pair?.[side].send({ case: "mediaState", value: state });
        if (side === "caller") {
          ready.add(index);
          if (ready.size === pairs.length) onReady?.();
        }
        return;
      }
      case "description":
        if (windowOpen) c.relayed += 1;
        return;
      case "error":
        if (windowOpen) c.acked += 1;
        errors.add(`${side} ${index}: ${k.value.code} ${k.value.message}`);
        return;
      case "callEnded":
        errors.add(`${side} ${index}: call ended (outcome ${k.value.outcome})`);
        return;
    }
  };

  const t0 = performance.now();
  const byIndex = new Map<number, CallPair>();
  const pairs = await connectPairs(
    spec.port,
    `quality${process.pid}.`,
    spec.calls,
    { caller: onEvent("caller"), callee: onEvent("callee") },
    errors,
  );
  const openMs = performance.now() - t0;
  for (const p of pairs) byIndex.set(p.index, p);
  const allReady = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  for (const p of pairs) p.caller.send({ case: "startCall", value: { calleeUserId: p.callee.userId, video: true } });
  await Promise.race([allReady, sleep(30_000)]);
  parent.send({ type: "opened", devices: pairs.length * 2, openMs });

  const command = (index: number, side: Side) => {
    const callId = callIds[index];
    const device = byIndex.get(index)?.[side];
    if (!callId || !device) return;
    if (windowOpen) c.sent += 1;
    if (spec.kind === "relay") {
      const type = side === "caller" ? SdpType.OFFER : SdpType.ANSWER;
      device.send({ case: "description", value: { callId, type, sdp } });
    } else {
      device.send({ case: "qualityReport", value: { callId, sample: qualitySample() } });
    }
  };
  const timers: NodeJS.Timeout[] = [];
  for (const p of pairs)
    for (const side of ["caller", "callee"] as const)
      timers.push(
        setTimeout(
          () => timers.push(setInterval(() => command(p.index, side), spec.everyMs)),
          Math.random() * spec.everyMs,
        ),
      );
  await sleep(spec.warmupMs);
  const writesBefore = await sampleWrites(spec.port);
  windowOpen = true;
  const windowStart = performance.now();
  parent.send({ type: "measure-start" });
  await sleep(spec.measureMs);
  windowOpen = false;
  const measuredMs = performance.now() - windowStart;
  parent.send({ type: "measure-end" });
  const writesAfter = await sampleWrites(spec.port);
  for (const t of timers) clearInterval(t);
  const result: QualityResult = {
    measuredMs,
    sent: c.sent,
    acked: c.acked,
    relayedReceived: c.relayed,
    sampleWrites: writesAfter - writesBefore,
    errors: errors.count,
    errorSamples: errors.samples,
    openMs,
  };
  await closePairs(pairs);
  return result;
}

parent.on("start", (message) => {
  run(message.spec as QualitySpec).then(
    (result) => process.send?.({ type: "result", result }, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`loadgen error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
});
