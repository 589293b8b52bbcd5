/**
 * Device sessions (docs/spec.md §3 resume, §4 seq): one session per (user, device),
 * each with a monotonically increasing seq and a bounded buffer of recent events.
 * A stream attaches a sink to a session; when the stream drops the session lives
 * on for the grace period, buffering events, so a reconnect with the resume token
 * and last seq replays everything missed, in order.
 */
import type { DeviceRef } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
import type { Ids } from "./ports/ids.ts";
import type { SessionSnapshot } from "./ports/peers.ts";
import type { SessionEvent, SessionEventBody } from "./session-events.ts";

/** Where a session's events go while a stream is attached. */
export interface SessionSink {
  push(event: SessionEvent): void;
  /** Ends the stream (with an error for the client, or cleanly). */
  close(error?: DomainError): void;
}

/** A device session as seen by callers of the hub. */
export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly deviceId: string;
}

/** Options of the hub. */
export interface SessionHubOptions {
  readonly clock: Clock;
  /** Session ids and resume token secrets. */
  readonly ids: Ids;
  /** How long a detached session waits for a resume. */
  readonly resumeGraceMs: number;
  /** Events kept per session for replay. */
  readonly bufferSize: number;
  /**
   * How many events an attached stream may queue before it is cut off as a slow reader
   * (event-queue.ts): kept for replay on top of `bufferSize`, which then covers the events
   * in flight, so a cut-off reader can resume without a gap.
   */
  readonly maxQueuedEvents: number;
  /** This node's id: resume tokens name it, so another node knows where to fetch the session from. */
  readonly nodeId?: string;
  /** A device's session ended for good: its resume grace period ran out. */
  readonly onDeviceLost: (session: Session) => void;
  /** A device opened a new (not resumed) session; an older session of the device, if any, was dropped. */
  readonly onDeviceOnline: (session: Session) => void;
}

/** Opening parameters: a fresh session, or a resume. */
export interface OpenRequest {
  readonly userId: string;
  readonly deviceId: string;
  readonly resumeToken?: string;
  readonly lastSeq?: number;
}

interface State extends Session {
  readonly resumeToken: string;
  nextSeq: number;
  readonly buffer: SessionEvent[];
  sink: SessionSink | undefined;
  graceTimer: TimerHandle | undefined;
}

/** The hub of all sessions on this node. */
export interface SessionHub {
  /** Opens or resumes a session and attaches `sink`; pushes session_ready then the replay into it. */
  open(request: OpenRequest, sink: SessionSink): Session;
  /** The stream behind `sink` ended; the session waits `resumeGraceMs` for a resume. */
  detach(sessionId: string, sink: SessionSink): void;
  /** The session with this id, if it belongs to `userId`. */
  find(sessionId: string, userId: string): Session | undefined;
  /** Sends an event to one device; false when it has no session here. */
  deliver(to: DeviceRef, body: SessionEventBody): boolean;
  /** Sends an event to every device of a user with a session here. */
  deliverToUser(userId: string, body: SessionEventBody): void;
  /** Devices of the user with a session (attached or within grace). */
  liveDevices(userId: string): string[];
  /** Whether the device has a session with an attached stream (not merely within its grace period). */
  isAttached(userId: string, deviceId: string): boolean;
  /** Number of sessions, and of those with an attached stream. */
  stats(): { sessions: number; attached: number };
  /** Ends every attached stream (graceful drain); sessions stay resumable elsewhere. */
  drain(error: DomainError): void;
  /** Whether a session with this resume token is held here. */
  holds(resumeToken: string): boolean;
  /**
   * Hands a session over to another node (the client resumed it there): checks the
   * request like a resume, then forgets the session and ends its stream, without
   * reporting the device lost. Throws DomainError like `open`.
   */
  release(request: OpenRequest & { readonly resumeToken: string }): SessionSnapshot;
  /** Takes in a session handed over by another node (detached until the client's stream attaches). */
  adopt(snapshot: SessionSnapshot): void;
  /** Forgets the session `sessionId` of a device that opened a fresh session elsewhere (not reported lost). */
  forget(userId: string, deviceId: string, sessionId: string): void;
}

/** The node a resume token was issued by, or undefined for a malformed token. */
export function tokenHome(resumeToken: string): string | undefined {
  const dot = resumeToken.indexOf(".");
  if (dot <= 0) return undefined;
  return Buffer.from(resumeToken.slice(0, dot), "base64url").toString("utf8") || undefined;
}

/** The secret part of a resume token: a session keeps it when it moves, while the home part names its holder. */
function tokenSecret(resumeToken: string): string {
  return resumeToken.slice(resumeToken.indexOf(".") + 1);
}

/** Creates the hub. */
export function createSessionHub(options: SessionHubOptions): SessionHub {
  const { clock } = options;
  const byId = new Map<string, State>();
  const byToken = new Map<string, State>();
  const byUser = new Map<string, Map<string, State>>();
  const home = Buffer.from(options.nodeId ?? "local").toString("base64url");
  const kept = options.bufferSize + options.maxQueuedEvents;

  function append(s: State, body: SessionEventBody): void {
    const event: SessionEvent = { seq: s.nextSeq++, sentAtMs: clock.now(), body };
    s.buffer.push(event);
    if (s.buffer.length > kept) s.buffer.shift();
    s.sink?.push(event);
  }

  function add(s: State): void {
    const devices = byUser.get(s.userId) ?? new Map<string, State>();
    byUser.set(s.userId, devices);
    const old = devices.get(s.deviceId);
    if (old) {
      remove(old);
      old.sink?.close(new DomainError("unavailable", "replaced by a newer session of this device"));
      byUser.set(s.userId, devices); // remove() drops the user's map when it empties
    }
    byId.set(s.id, s);
    byToken.set(tokenSecret(s.resumeToken), s);
    devices.set(s.deviceId, s);
  }

  function startGrace(s: State): void {
    s.graceTimer = clock.setTimer(options.resumeGraceMs, () => {
      if (byId.get(s.id) !== s || s.sink) return;
      remove(s);
      options.onDeviceLost(s);
    });
  }

  function remove(s: State): void {
    byId.delete(s.id);
    byToken.delete(tokenSecret(s.resumeToken));
    const devices = byUser.get(s.userId);
    if (devices?.get(s.deviceId) === s) devices.delete(s.deviceId);
    if (devices?.size === 0) byUser.delete(s.userId);
    if (s.graceTimer) clock.clearTimer(s.graceTimer);
  }

  function ready(s: State, resumed: boolean): SessionEvent {
    const body: SessionEventBody = {
      type: "session_ready",
      sessionId: s.id,
      resumeToken: s.resumeToken,
      resumed,
      resumeGraceMs: options.resumeGraceMs,
      userId: s.userId,
      deviceId: s.deviceId,
    };
    return { seq: 0, sentAtMs: clock.now(), body };
  }

  function attach(s: State, sink: SessionSink): void {
    if (s.graceTimer) clock.clearTimer(s.graceTimer);
    s.graceTimer = undefined;
    const previous = s.sink;
    s.sink = sink;
    previous?.close(new DomainError("unavailable", "session resumed on another stream"));
  }

  /** The session a resume request names, checked; throws DomainError when it cannot be resumed. */
  function resumable(request: OpenRequest, token: string): State {
    const s = byToken.get(tokenSecret(token));
    if (!s || s.userId !== request.userId || s.deviceId !== request.deviceId) {
      throw new DomainError("resume_expired", "unknown or expired resume token; open a new session");
    }
    const lastSeq = request.lastSeq ?? 0;
    if (lastSeq >= s.nextSeq) throw new DomainError("invalid_argument", `last_seq ${lastSeq} is ahead of the session`);
    const oldest = s.buffer[0]?.seq ?? s.nextSeq;
    if (lastSeq + 1 < oldest) {
      throw new DomainError("resume_expired", "events since last_seq are no longer buffered; open a new session");
    }
    return s;
  }

  function resume(request: OpenRequest, token: string, sink: SessionSink): Session {
    const s = resumable(request, token);
    const lastSeq = request.lastSeq ?? 0;
    attach(s, sink);
    sink.push(ready(s, true));
    for (const e of s.buffer) if (e.seq > lastSeq) sink.push(e);
    return s;
  }

  return {
    open(request, sink) {
      if (request.resumeToken) return resume(request, request.resumeToken, sink);
      const s: State = {
        id: options.ids.sessionId(),
        userId: request.userId,
        deviceId: request.deviceId,
        resumeToken: `${home}.${options.ids.secret()}`,
        nextSeq: 1,
        buffer: [],
        sink: undefined,
        graceTimer: undefined,
      };
      add(s);
      attach(s, sink);
      sink.push(ready(s, false));
      options.onDeviceOnline(s);
      return s;
    },
    detach(sessionId, sink) {
      const s = byId.get(sessionId);
      if (!s || s.sink !== sink) return;
      s.sink = undefined;
      startGrace(s);
    },
    find(sessionId, userId) {
      const s = byId.get(sessionId);
      return s && s.userId === userId ? s : undefined;
    },
    deliver(to, body) {
      const s = byUser.get(to.userId)?.get(to.deviceId);
      if (!s) return false;
      append(s, body);
      return true;
    },
    deliverToUser(userId, body) {
      for (const s of byUser.get(userId)?.values() ?? []) append(s, body);
    },
    liveDevices(userId) {
      return [...(byUser.get(userId)?.keys() ?? [])];
    },
    isAttached(userId, deviceId) {
      return byUser.get(userId)?.get(deviceId)?.sink !== undefined;
    },
    stats() {
      let attached = 0;
      for (const s of byId.values()) if (s.sink) attached += 1;
      return { sessions: byId.size, attached };
    },
    drain(error) {
      for (const s of byId.values()) {
        const sink = s.sink;
        s.sink = undefined;
        sink?.close(error);
      }
    },
    holds: (token) => byToken.has(tokenSecret(token)),
    release(request) {
      const s = resumable(request, request.resumeToken);
      remove(s);
      s.sink?.close(new DomainError("unavailable", "session resumed on another node"));
      return {
        sessionId: s.id,
        resumeToken: s.resumeToken,
        userId: s.userId,
        deviceId: s.deviceId,
        nextSeq: s.nextSeq,
        events: [...s.buffer],
      };
    },
    adopt(snapshot) {
      const s: State = {
        id: snapshot.sessionId,
        userId: snapshot.userId,
        deviceId: snapshot.deviceId,
        // Re-homed: the session_ready of the resume names this node, so a later resume finds it here.
        resumeToken: `${home}.${tokenSecret(snapshot.resumeToken)}`,
        nextSeq: snapshot.nextSeq,
        buffer: snapshot.events.slice(-kept),
        sink: undefined,
        graceTimer: undefined,
      };
      add(s);
      startGrace(s);
    },
    forget(userId, deviceId, sessionId) {
      const s = byUser.get(userId)?.get(deviceId);
      if (s?.id !== sessionId) return;
      remove(s);
      s.sink?.close(new DomainError("unavailable", "replaced by a newer session of this device"));
    },
  };
}
