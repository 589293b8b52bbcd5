/**
 * One web device session: `Subscribe` streams server events; `send` delivers
 * commands through `Send` with a fresh command id, retried with the same id on
 * transient errors (the server applies a command id once). A dropped stream is
 * resumed with the resume token and the last seq seen, so no event is lost.
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClientMessageSchema, CommandResult, ServerEvent } from "../../gen/calldrop/v1/signal_pb.js";
import type { Api } from "./api.ts";

/** A command body: the `kind` oneof of ClientMessage. */
export type CommandKind = Exclude<
  NonNullable<MessageInitShape<typeof ClientMessageSchema>["kind"]>,
  { case: undefined }
>;

/** Options of one command. */
export interface SendOptions {
  readonly commandId?: string;
  readonly resendOf?: string;
}

/** Connection state shown in the header. */
export type SessionStatus = "connecting" | "online" | "offline" | "signed_out";

/** A running session. */
export interface Session {
  /**
   * Sends one command; resolves with its result, rejects with a ConnectError. `commandId`
   * defaults to a fresh one; `resendOf` marks a signal sent again after a `Resync`.
   */
  send(kind: CommandKind, options?: SendOptions): Promise<CommandResult>;
  /** Ends the stream for good. */
  close(): void;
}

/** Handlers of a session. */
export interface SessionHandlers {
  onEvent(event: ServerEvent): void;
  onStatus(status: SessionStatus, error?: unknown): void;
  /** Called with the resume point after every event, so a reloaded page can resume the session. */
  onResumePoint?(resumeToken: string, lastSeq: bigint): void;
}

/** Where to resume from (e.g. saved before a page reload). */
export interface ResumePoint {
  readonly resumeToken: string;
  readonly lastSeq: bigint;
}

const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Internal]);

/** Opens the session for `deviceId` and keeps it open until `close()`. */
export function openSession(api: Api, deviceId: string, handlers: SessionHandlers, from?: ResumePoint): Session {
  const abort = new AbortController();
  let sessionId = "";
  let resumeToken = from?.resumeToken ?? "";
  let lastSeq = from?.lastSeq ?? 0n;
  let ready: PromiseWithResolvers<void> = Promise.withResolvers();

  async function loop(): Promise<void> {
    let backoffMs = 250;
    while (!abort.signal.aborted) {
      handlers.onStatus("connecting");
      try {
        const hello = { deviceId, resumeToken, lastSeq: resumeToken ? lastSeq : 0n };
        for await (const res of api.signal.subscribe({ hello }, { signal: abort.signal })) {
          const event = res.event;
          if (!event) continue;
          if (event.seq !== 0n && event.seq <= lastSeq && event.kind.case !== "sessionReady") continue;
          if (event.kind.case === "sessionReady") {
            const r = event.kind.value;
            if (!r.resumed) lastSeq = 0n;
            sessionId = r.sessionId;
            resumeToken = r.resumeToken;
            backoffMs = 250;
            handlers.onStatus("online");
            ready.resolve();
          }
          if (event.seq > lastSeq) lastSeq = event.seq;
          handlers.onResumePoint?.(resumeToken, lastSeq);
          handlers.onEvent(event);
        }
      } catch (e) {
        if (abort.signal.aborted) return;
        const err = ConnectError.from(e);
        if (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied) {
          handlers.onStatus("signed_out", err);
          return;
        }
        // A resume the server no longer knows: start a fresh session next time.
        if (!RETRYABLE.has(err.code)) resumeToken = "";
      }
      if (abort.signal.aborted) return;
      ready = Promise.withResolvers();
      handlers.onStatus("offline");
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  }
  void loop();

  return {
    async send(kind, options = {}) {
      const commandId = options.commandId ?? crypto.randomUUID();
      const resendOf = options.resendOf ?? "";
      for (let attempt = 0; ; attempt++) {
        await ready.promise;
        try {
          const message = { commandId, resendOf, kind };
          const res = await api.signal.send({ sessionId, message }, { signal: abort.signal });
          if (!res.result) throw new ConnectError("empty result", Code.Internal);
          return res.result;
        } catch (e) {
          const err = ConnectError.from(e);
          if (attempt >= 2 || !RETRYABLE.has(err.code) || abort.signal.aborted) throw err;
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    },
    close() {
      abort.abort();
    },
  };
}
