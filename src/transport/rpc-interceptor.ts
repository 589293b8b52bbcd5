/**
 * The outermost interceptor: per-RPC golden signals (started, handled by code,
 * duration, in flight) and the mapping of every error, unary or mid-stream, to a
 * Connect error with a client-safe message (internal details stay in logs).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Metrics } from "../app/metrics.ts";
import { toConnectError } from "./error-codes.ts";

/** Creates the interceptor. */
export function createRpcInterceptor(metrics: Metrics, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const labels = { service: req.service.typeName, method: req.method.name };
    const started = performance.now();
    metrics.rpcStarted.inc(labels);
    metrics.rpcInFlight.inc(labels);
    let done = false;
    const finish = (err?: unknown): ConnectError | undefined => {
      if (done) return undefined;
      done = true;
      const connectErr = err === undefined ? undefined : toConnectError(err, logger);
      const code = connectErr ? Code[connectErr.code] : "OK";
      metrics.rpcInFlight.dec(labels);
      metrics.rpcHandled.inc({ ...labels, code: code ?? "Unknown" });
      metrics.rpcDuration.observe(labels, (performance.now() - started) / 1000);
      return connectErr;
    };
    try {
      const res = await next(req);
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
            throw finish(err) ?? toConnectError(err, logger);
          } finally {
            // The client went away mid-stream: the generator is closed without an error.
            finish(req.signal.aborted ? new ConnectError("stream cancelled", Code.Canceled) : undefined);
          }
        })(),
      };
    } catch (err) {
      throw finish(err) ?? toConnectError(err, logger);
    }
  };
}
