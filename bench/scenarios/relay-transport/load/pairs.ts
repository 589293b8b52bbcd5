import { pairDevices } from "../payload.ts";
import type { Link, Transport } from "./link.ts";

/** Error counter shared by all links of a run, keeping the first few texts. */
export type ErrorLog = { count: number; samples: string[]; add(text: string): void };

/** Creates an empty error log. */
export function createErrorLog(maxSamples = 5): ErrorLog {
  const log: ErrorLog = {
    count: 0,
    samples: [],
    add(text) {
      log.count += 1;
      if (log.samples.length < maxSamples) log.samples.push(text);
    },
  };
  return log;
}

/** One connected pair: side A sends offers, side B answers each one at once. */
export type Pair = { a: Link; b: Link };

/** What a pair does when A gets an answer (B's side is fixed: answer every offer). */
export type PairHooks = { onAnswer(pairIndex: number): void };

/**
 * Opens `count` pairs (2 streams each) with at most `concurrency` opens in flight; pairs that
 * fail to open are counted as errors and left out. Resolves with the open pairs by index.
 */
export async function openPairs(
  transport: Transport,
  count: number,
  hooks: PairHooks,
  errors: ErrorLog,
  concurrency = 64,
): Promise<Map<number, Pair>> {
  const pairs = new Map<number, Pair>();
  let next = 0;
  const openOne = async (i: number) => {
    const { a, b, callId } = pairDevices(i);
    const unexpected = (what: string) => () => errors.add(`${what} on pair ${i}`);
    const pair: Partial<Pair> = {};
    try {
      pair.b = await transport.open(
        { deviceId: b, peerId: a, callId },
        { onOffer: () => pair.b?.sendAnswer(), onAnswer: unexpected("answer at B"), onError: errors.add },
      );
      pair.a = await transport.open(
        { deviceId: a, peerId: b, callId },
        { onOffer: unexpected("offer at A"), onAnswer: () => hooks.onAnswer(i), onError: errors.add },
      );
      pairs.set(i, pair as Pair);
    } catch (e) {
      errors.add(`open pair ${i}: ${(e as Error).message}`);
      await pair.b?.close();
    }
  };
  const worker = async () => {
    while (next < count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return pairs;
}

/** Closes every stream of `pairs` (bounded by each link's close timeout). */
export async function closePairs(pairs: Map<number, Pair>): Promise<void> {
  await Promise.all([...pairs.values()].flatMap((p) => [p.a.close(), p.b.close()]));
}
