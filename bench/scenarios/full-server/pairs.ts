import type { ServerEvent } from "../../../gen/calldrop/v1/signal_pb.js";
import type { ErrorLog } from "../relay-transport/load/pairs.ts";
import { connectDevice, type Device, mapBounded } from "./device.ts";
import { mintToken } from "./tokens.ts";

/** A caller and a callee device, each its own user with its own connection. */
export type CallPair = { index: number; caller: Device; callee: Device };

/** Routes each side's events to the scenario's per-pair logic. */
export type PairEvents = {
  caller(index: number, event: ServerEvent): void;
  callee(index: number, event: ServerEvent): void;
};

/** User ids of pair `index` under `prefix` (unique per load generator so processes never collide). */
export function pairUsers(prefix: string, index: number): { caller: string; callee: string } {
  return { caller: `${prefix}${index}.caller`, callee: `${prefix}${index}.callee` };
}

/**
 * Connects `count` pairs (callee first, so it rings when called), at most `concurrency` pairs
 * opening at once. Pairs that fail to open are logged as errors and left out.
 */
export async function connectPairs(
  port: number,
  prefix: string,
  count: number,
  events: PairEvents,
  errors: ErrorLog,
  concurrency = 32,
): Promise<CallPair[]> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return mapBounded(
    indexes,
    concurrency,
    async (index) => {
      const users = pairUsers(prefix, index);
      const open = async (userId: string, onEvent: (e: ServerEvent) => void) =>
        connectDevice(
          { port, token: await mintToken(userId), userId, deviceId: "phone" },
          { onEvent, onError: errors.add },
        );
      const callee = await open(users.callee, (e) => events.callee(index, e));
      try {
        const caller = await open(users.caller, (e) => events.caller(index, e));
        return { index, caller, callee };
      } catch (e) {
        await callee.close();
        throw e;
      }
    },
    (text) => errors.add(`open: ${text}`),
  );
}

/** Closes both devices of every pair. */
export async function closePairs(pairs: readonly CallPair[]): Promise<void> {
  await Promise.all(pairs.flatMap((p) => [p.caller.close(), p.callee.close()]));
}
