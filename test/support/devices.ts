/**
 * Test devices speaking to a real server the way real apps do:
 * - `mobileDevice`: @grpc/grpc-js with stubs loaded from proto/ only (bidi `Connect`);
 * - `webDevice`: @connectrpc/connect-web over Node's fetch (`Subscribe` + `Send`).
 * Both expose the same API so scenarios can mix them, and both keep the client side of
 * `Resync` as apps do (web/src/signal-memory.ts): relayed signals applied once, and every
 * signal sent in a call sent again when the server asks.
 */
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { BlockService } from "../../gen/calldrop/v1/block_pb.js";
import { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import { CallSettingsService } from "../../gen/calldrop/v1/settings_pb.js";
import { SignalService } from "../../gen/calldrop/v1/signal_pb.js";
import { createSignalMemory, type SignalMemory } from "../../web/src/signal-memory.ts";

/** One server event, normalised: int64s as numbers, the oneof as case + value. */
export interface TestEvent {
  readonly seq: number;
  readonly case: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary fields
  readonly value: any;
}

/** A command the server refused, with its snake_case code (e.g. "permission_denied"). */
export class CommandFailed extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** A connected test device. */
export interface Device {
  readonly userId: string;
  readonly deviceId: string;
  readonly events: TestEvent[];
  readonly session: { id: string; resumeToken: string };
  /**
   * Sends a command (`resendOf`: as a resend after a resync); resolves with the result or
   * rejects with CommandFailed.
   */
  command(
    kind: string,
    value?: object,
    commandId?: string,
    resendOf?: string,
  ): Promise<{ callId: string; mergedIntoExisting: boolean }>;
  /** The first not yet taken event of `kind` (matching `where`), waiting for it up to `timeoutMs`. */
  next(kind: string, where?: (value: TestEvent["value"]) => boolean, timeoutMs?: number): Promise<TestEvent>;
  /** The highest seq received. */
  lastSeq(): number;
  /** The error that ended the stream, if any. */
  streamError(): { code: string; message: string } | undefined;
  /** Ends the stream abruptly (like a lost network); events held and not processed are lost. */
  drop(): void;
  /** Stops processing events: they arrive but wait unprocessed (until `drop` loses them). */
  hold(): void;
  /** Events arrived but not processed (see `hold`). */
  held(): number;
  /** Relayed signals received again after a resync and dropped as repeats. */
  repeats(): number;
  /** The device's memory of its calls' signaling, to carry over to a fresh session. */
  readonly memory: TestSignalMemory;
}

/** A sent signal as the test devices remember it: the ClientMessage case and its value. */
export type TestSignalMemory = SignalMemory<{ readonly kind: string; readonly value: object }>;

/** Options for opening a device. */
export interface DeviceOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly resume?: { resumeToken: string; lastSeq: number };
  /** Receives events in this array (to keep one log across a resume). */
  readonly events?: TestEvent[];
  /** The signaling memory of the device's earlier session (as an app keeps it across sessions). */
  readonly memory?: TestSignalMemory;
}

const root = join(import.meta.dirname, "..", "..");
const packageDefinition = protoLoader.loadSync(["calldrop/v1/signal.proto", "calldrop/v1/history.proto"], {
  includeDirs: [join(root, "proto")],
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
});
// biome-ignore lint/suspicious/noExplicitAny: loaded dynamically from .proto files, as a mobile app would
const protos = grpc.loadPackageDefinition(packageDefinition) as any;

function snake(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

function toPlain(x: unknown): unknown {
  if (typeof x === "bigint") return Number(x);
  if (Array.isArray(x)) return x.map(toPlain);
  if (x && typeof x === "object") {
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => k !== "$typeName")
        .map(([k, v]) => [k, toPlain(v)]),
    );
  }
  return x;
}

const signalCases = new Set(["description", "iceCandidate", "iceRestart"]);

/**
 * What both devices do with events and signals: `receive` processes an arriving event
 * (or holds it), drops repeated signals, and answers a resync by sending every signal of
 * the call again through `resend`; `sent` remembers a signal command before it goes out.
 */
function createClientCore(
  events: TestEvent[],
  memory: TestSignalMemory,
  resend: (kind: string, value: object, resendOf: string) => void,
) {
  const taken = new Set<TestEvent>();
  const waiters = new Set<() => void>();
  let holding = false;
  let repeats = 0;
  const held: { event: TestEvent; origin: string }[] = [];

  function apply(e: TestEvent, origin: string): void {
    if (signalCases.has(e.case) && !memory.fresh(e.value.callId, origin)) {
      repeats++;
      return;
    }
    events.push(e);
    for (const w of waiters) w();
    if (e.case === "resync") {
      for (const s of memory.toResend(e.value.callId)) resend(s.signal.kind, s.signal.value, s.commandId);
    }
  }

  return {
    receive(e: TestEvent, origin: string) {
      if (holding) held.push({ event: e, origin });
      else apply(e, origin);
    },
    sent(kind: string, value: object, commandId: string) {
      const callId = (value as { callId?: string }).callId;
      if (signalCases.has(kind) && callId) memory.sent(callId, commandId, { kind, value });
    },
    hold() {
      holding = true;
    },
    held: () => held.length,
    repeats: () => repeats,
    async next(kind: string, where: (v: TestEvent["value"]) => boolean = () => true, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => !taken.has(e) && e.case === kind && where(e.value));
        if (hit) {
          taken.add(hit);
          return hit;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`timed out waiting for ${kind}; got ${events.map((e) => `${e.seq}:${e.case}`).join(", ")}`);
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(t);
            resolve();
          };
          const t = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
  };
}

let counter = 0;
const newCommandId = () => `cmd-${process.pid}-${++counter}`;

/** A mobile app: grpc-js bidi stream. */
export async function mobileDevice(o: DeviceOptions): Promise<Device> {
  const address = o.baseUrl.replace(/^http:\/\//, "");
  const client = new protos.calldrop.v1.SignalService(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${o.token}`);
  const call: grpc.ClientDuplexStream<object, { event: Record<string, unknown> }> = client.Connect(md);
  const events = o.events ?? [];
  const memory = o.memory ?? createSignalMemory();
  const log = createClientCore(events, memory, (kind, value, resendOf) =>
    call.write({ message: { commandId: newCommandId(), resendOf, [kind]: value } }),
  );
  let error: { code: string; message: string } | undefined;
  const session = { id: "", resumeToken: "" };
  let ready: (() => void) | undefined;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  call.on("data", ({ event }) => {
    const kind = String(event.kind);
    const value = event[kind] as Record<string, unknown>;
    if (kind === "sessionReady") {
      session.id = String(value.sessionId);
      session.resumeToken = String(value.resumeToken);
      ready?.();
    }
    log.receive({ seq: Number(event.seq), case: kind, value }, String(event.originCommandId ?? ""));
  });
  call.on("error", (err: grpc.ServiceError) => {
    error = { code: snake(err.code as number as Code), message: err.details };
    ready?.();
  });
  call.on("end", () => client.close());
  call.write({ message: { commandId: "", hello: { deviceId: o.deviceId, ...(o.resume ?? {}) } } });
  await isReady;
  if (error && !session.id) throw new CommandFailed(error.code, error.message);
  return {
    userId: o.userId,
    deviceId: o.deviceId,
    events,
    session,
    async command(kind, value = {}, commandId = newCommandId(), resendOf = "") {
      if (!resendOf) log.sent(kind, value, commandId);
      call.write({ message: { commandId, resendOf, [kind]: value } });
      const byId = (v: { commandId: string }) => v.commandId === commandId;
      const outcome = await Promise.race([log.next("commandResult", byId), log.next("error", byId)]);
      if (outcome.case === "error") throw new CommandFailed(outcome.value.code, outcome.value.message);
      return { callId: outcome.value.callId, mergedIntoExisting: outcome.value.mergedIntoExisting };
    },
    next: log.next,
    lastSeq: () => Math.max(0, ...events.map((e) => e.seq)),
    streamError: () => error,
    drop() {
      call.cancel();
      client.close();
    },
    hold: log.hold,
    held: log.held,
    repeats: log.repeats,
    memory,
  };
}

/** A web app: connect-web Subscribe + Send. */
export async function webDevice(o: DeviceOptions): Promise<Device> {
  const transport = createConnectTransport({ baseUrl: o.baseUrl, useBinaryFormat: true });
  const client = createClient(SignalService, transport);
  const headers = { authorization: `Bearer ${o.token}` };
  const abort = new AbortController();
  const events = o.events ?? [];
  const memory = o.memory ?? createSignalMemory();
  const send = (message: { commandId: string; resendOf?: string; kind: string; value: object }) =>
    client.send(
      {
        sessionId: session.id,
        // biome-ignore lint/suspicious/noExplicitAny: the oneof case is chosen by name at run time
        message: { ...message, kind: { case: message.kind, value: message.value } as any },
      },
      { headers },
    );
  // Resends go one after another, in order, as the web app sends them; a lost one shows as a missing signal.
  let resends: Promise<unknown> = Promise.resolve();
  const log = createClientCore(events, memory, (kind, value, resendOf) => {
    resends = resends.then(() => send({ commandId: newCommandId(), resendOf, kind, value })).catch(() => {});
  });
  let error: { code: string; message: string } | undefined;
  const session = { id: "", resumeToken: "" };
  const stream = client.subscribe(
    { hello: { deviceId: o.deviceId, ...(o.resume ? { ...o.resume, lastSeq: BigInt(o.resume.lastSeq) } : {}) } },
    { headers, signal: abort.signal },
  );
  let ready: (() => void) | undefined;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  (async () => {
    for await (const res of stream) {
      const e = res.event;
      if (!e?.kind.case) continue;
      const value = toPlain(e.kind.value) as TestEvent["value"];
      if (e.kind.case === "sessionReady") {
        session.id = value.sessionId;
        session.resumeToken = value.resumeToken;
        ready?.();
      }
      log.receive({ seq: Number(e.seq), case: e.kind.case, value }, e.originCommandId);
    }
  })().catch((err: unknown) => {
    const ce = ConnectError.from(err);
    if (ce.code !== Code.Canceled) error = { code: snake(ce.code), message: ce.rawMessage };
    ready?.();
  });
  await isReady;
  if (error && !session.id) throw new CommandFailed(error.code, error.message);
  return {
    userId: o.userId,
    deviceId: o.deviceId,
    events,
    session,
    async command(kind, value = {}, commandId = newCommandId(), resendOf = "") {
      if (!resendOf) log.sent(kind, value, commandId);
      try {
        const res = await send({ commandId, resendOf, kind, value });
        return { callId: res.result?.callId ?? "", mergedIntoExisting: res.result?.mergedIntoExisting ?? false };
      } catch (err) {
        const ce = ConnectError.from(err);
        throw new CommandFailed(snake(ce.code), ce.rawMessage);
      }
    },
    next: log.next,
    lastSeq: () => Math.max(0, ...events.map((e) => e.seq)),
    streamError: () => error,
    drop: () => abort.abort(),
    hold: log.hold,
    held: log.held,
    repeats: log.repeats,
    memory,
  };
}

/** BlockService as `token`'s user (Connect over Node's fetch). */
export function blockClient(baseUrl: string, token: string) {
  const client = createClient(BlockService, createConnectTransport({ baseUrl }));
  const headers = { authorization: `Bearer ${token}` };
  return {
    block: async (userId: string) => (await client.blockUser({ userId }, { headers })).blocked?.userId,
    unblock: async (userId: string) => (await client.unblockUser({ userId }, { headers })).removed,
    list: async () => (await client.listBlockedUsers({}, { headers })).users.map((u) => u.userId),
  };
}

/** CallSettingsService as `token`'s user (Connect over Node's fetch; docs/spec.md §14 "Call waiting"). */
export function settingsClient(baseUrl: string, token: string) {
  const client = createClient(CallSettingsService, createConnectTransport({ baseUrl }));
  const headers = { authorization: `Bearer ${token}` };
  return {
    callWaiting: async () => (await client.getCallSettings({}, { headers })).settings?.callWaiting,
    setCallWaiting: async (callWaiting: boolean) =>
      (await client.updateCallSettings({ callWaiting }, { headers })).settings?.callWaiting,
  };
}

/** The history API as the web app uses it. */
export function historyClient(baseUrl: string, token: string) {
  const client = createClient(CallHistoryService, createConnectTransport({ baseUrl }));
  const headers = { authorization: `Bearer ${token}` };
  return {
    async list(req: { pageSize?: number; pageToken?: string; missedOnly?: boolean } = {}) {
      // biome-ignore lint/suspicious/noExplicitAny: normalised plain objects
      return toPlain(await client.listCalls(req, { headers })) as { calls: any[]; nextPageToken: string };
    },
    async get(callId: string) {
      // biome-ignore lint/suspicious/noExplicitAny: normalised plain objects
      return toPlain((await client.getCall({ callId }, { headers })).call) as any;
    },
    /** RateCall; reasons as RatingReason numbers (docs/spec.md §15). */
    async rate(callId: string, score: number, reasons: number[] = [], comment = "") {
      // biome-ignore lint/suspicious/noExplicitAny: normalised plain objects
      return toPlain((await client.rateCall({ callId, score, reasons, comment }, { headers })).call) as any;
    },
  };
}

/** The raw grpc-js SignalService client (for tests of stream-level errors). */
export function rawGrpcSignalClient(baseUrl: string) {
  return new protos.calldrop.v1.SignalService(baseUrl.replace(/^http:\/\//, ""), grpc.credentials.createInsecure());
}
