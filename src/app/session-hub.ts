/**
 * Device sessions (PRODUCT.md §3 resume, §4 seq): one session per (user, device),
 * each with a monotonically increasing seq and a bounded buffer of recent events.
 * A stream attaches a sink to a session; when the stream drops the session lives
 * on for the grace period, buffering events, so a reconnect with the resume token
 * and last seq replays everything missed, in order.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DeviceRef } from "../domain/call-types.ts";
import { DomainError } from "../domain/errors.ts";
import type { Clock, TimerHandle } from "./ports/clock.ts";
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
  /** How long a detached session waits for a resume. */
  readonly resumeGraceMs: number;
  /** Events kept per session for replay. */
  readonly bufferSize: number;
  /** A device's session ended (grace expired, or replaced by a fresh session). */
  readonly onDeviceLost: (device: DeviceRef) => void;
  /** A device opened a new (not resumed) session. */
  readonly onDeviceOnline: (device: DeviceRef) => void;
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
}

/** Creates the hub. */
export function createSessionHub(options: SessionHubOptions): SessionHub {
  const { clock } = options;
  const byId = new Map<string, State>();
  const byToken = new Map<string, State>();
  const byUser = new Map<string, Map<string, State>>();

  function append(s: State, body: SessionEventBody): void {
    const event: SessionEvent = { seq: s.nextSeq++, sentAtMs: clock.now(), body };
    s.buffer.push(event);
    if (s.buffer.length > options.bufferSize) s.buffer.shift();
    s.sink?.push(event);
  }

  function remove(s: State): void {
    byId.delete(s.id);
    byToken.delete(s.resumeToken);
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

  function resume(request: OpenRequest, token: string, sink: SessionSink): Session {
    const s = byToken.get(token);
    if (!s || s.userId !== request.userId || s.deviceId !== request.deviceId) {
      throw new DomainError("resume_expired", "unknown or expired resume token; open a new session");
    }
    const lastSeq = request.lastSeq ?? 0;
    if (lastSeq >= s.nextSeq) throw new DomainError("invalid_argument", `last_seq ${lastSeq} is ahead of the session`);
    const oldest = s.buffer[0]?.seq ?? s.nextSeq;
    if (lastSeq + 1 < oldest) {
      throw new DomainError("resume_expired", "events since last_seq are no longer buffered; open a new session");
    }
    attach(s, sink);
    sink.push(ready(s, true));
    for (const e of s.buffer) if (e.seq > lastSeq) sink.push(e);
    return s;
  }

  return {
    open(request, sink) {
      if (request.resumeToken) return resume(request, request.resumeToken, sink);
      const devices = byUser.get(request.userId) ?? new Map<string, State>();
      byUser.set(request.userId, devices);
      const old = devices.get(request.deviceId);
      const s: State = {
        id: randomUUID(),
        userId: request.userId,
        deviceId: request.deviceId,
        resumeToken: randomBytes(24).toString("base64url"),
        nextSeq: 1,
        buffer: [],
        sink: undefined,
        graceTimer: undefined,
      };
      if (old) {
        remove(old);
        old.sink?.close(new DomainError("unavailable", "replaced by a newer session of this device"));
        byUser.set(request.userId, devices); // remove() drops the user's map when it empties
      }
      byId.set(s.id, s);
      byToken.set(s.resumeToken, s);
      devices.set(s.deviceId, s);
      attach(s, sink);
      sink.push(ready(s, false));
      if (old) options.onDeviceLost({ userId: old.userId, deviceId: old.deviceId });
      options.onDeviceOnline({ userId: s.userId, deviceId: s.deviceId });
      return s;
    },
    detach(sessionId, sink) {
      const s = byId.get(sessionId);
      if (!s || s.sink !== sink) return;
      s.sink = undefined;
      s.graceTimer = clock.setTimer(options.resumeGraceMs, () => {
        if (byId.get(s.id) !== s || s.sink) return;
        remove(s);
        options.onDeviceLost({ userId: s.userId, deviceId: s.deviceId });
      });
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
  };
}
