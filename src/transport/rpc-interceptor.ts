/**
 * The outermost interceptor: per-RPC golden signals (started, handled by code,
 * duration, in flight), one structured log line per RPC with its request id
 * (the caller's `x-request-id` or a new one, echoed back), and the mapping of
 * every error, unary or mid-stream, to a Connect error with a client-safe
 * message (internal details stay in logs). Bodies are never logged.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Metrics } from "../app/ports/metrics.ts";
import { codeName } from "../codec/status-codes.ts";
import { toConnectError } from "./error-codes.ts";

/** Creates the interceptor. */
export function createRpcInterceptor(metrics: Metrics, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const labels = { service: req.service.typeName, method: req.method.name };
    const given = req.header.get("x-request-id") ?? "";
    const requestId = /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    const log = logger.child({ requestId, rpc: `${labels.service}/${labels.method}` });
    const started = performance.now();
    metrics.rpcStarted.inc(labels);
    metrics.rpcInFlight.inc(labels);
    let done = false;
    const finish = (err?: unknown): ConnectError | undefined => {
      if (done) return undefined;
      done = true;
      const connectErr = err === undefined ? undefined : toConnectError(err, log);
      connectErr?.metadata.set("x-request-id", requestId);
      const code = connectErr ? codeName(connectErr.code) : "ok";
      const seconds = (performance.now() - started) / 1000;
      metrics.rpcInFlight.dec(labels);
      metrics.rpcHandled.inc({ ...labels, code });
      metrics.rpcDuration.observe(labels, seconds);
      log[logLevel(connectErr?.code)](
        { code, durationMs: Math.round(seconds * 1000), ...(connectErr ? { reason: connectErr.rawMessage } : {}) },
        "rpc",
      );
      return connectErr;
    };
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      if (!res.stream) {
        finish();
        return res;
      }
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
            finish();
          } catch (err) {
            throw finish(err) ?? toConnectError(err, log);
          } finally {
            // The client went away mid-stream: the generator is closed without an error.
            finish(req.signal.aborted ? new ConnectError("stream cancelled", Code.Canceled) : undefined);
          }
        })(),
      };
    } catch (err) {
      throw finish(err) ?? toConnectError(err, log);
    }
  };
}

/** Counts and logs an RPC that was refused before the interceptors ran (its request did not decode). */
export function recordRefused(
  metrics: Metrics,
  logger: Logger,
  labels: { service: string; method: string },
  err: ConnectError,
): void {
  const code = codeName(err.code);
  metrics.rpcStarted.inc(labels);
  metrics.rpcHandled.inc({ ...labels, code });
  logger.info({ rpc: `${labels.service}/${labels.method}`, code, reason: err.rawMessage }, "rpc");
}

/**
 * How loudly an RPC's end is logged: a fault of ours is an error, a dependency that failed (the store
 * down, a peer too slow) a warning, the client's own mistake (bad input, not found, refused) info.
 */
export function logLevel(code: Code | undefined): "debug" | "info" | "warn" | "error" {
  if (code === undefined) return "debug";
  if (code === Code.Internal || code === Code.Unknown || code === Code.DataLoss) return "error";
  if (code === Code.Unavailable || code === Code.DeadlineExceeded) return "warn";
  return "info";
}
