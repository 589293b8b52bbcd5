/** The RPC interceptor logs each RPC's end at the level its cause deserves (docs/spec.md §11). */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { Registry } from "prom-client";
import { CallHistoryService, GetCallResponseSchema } from "../../gen/calldrop/v1/history_pb.js";
import { createMetrics } from "../adapters/metrics/service-metrics.ts";
import { DomainError } from "../domain/errors.ts";
import { createRpcInterceptor } from "./rpc-interceptor.ts";

/** A history service whose ListCalls fails with `err` (GetCall answers); the log lines it produced. */
function failingHistory(err: Error) {
  const lines: { level: number; code: string; rpc: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const logger = pino({ level: "debug" }, sink);
  const metrics = createMetrics(new Registry(), { version: "test" });
  const transport = createRouterTransport(
    (router) =>
      router.service(CallHistoryService, {
        listCalls: () => {
          throw err;
        },
        getCall: () => create(GetCallResponseSchema),
      }),
    { router: { interceptors: [createRpcInterceptor(metrics, logger)] } },
  );
  return { client: createClient(CallHistoryService, transport), lines };
}

const levels = { debug: 20, info: 30, warn: 40, error: 50 };

for (const [what, err, code, level] of [
  ["a store outage", new DomainError("unavailable", "call history is unavailable"), Code.Unavailable, levels.warn],
  ["a bug", new Error("boom"), Code.Internal, levels.error],
  ["bad input", new DomainError("invalid_argument", "page_size is negative"), Code.InvalidArgument, levels.info],
  ["a refusal", new DomainError("not_participant", "not your call"), Code.PermissionDenied, levels.info],
] as const) {
  test(`a failed history read caused by ${what} is logged at ${pino.levels.labels[level]}`, async () => {
    const { client, lines } = failingHistory(err);
    await assert.rejects(client.listCalls({}), (e: unknown) => ConnectError.from(e).code === code);
    const rpc = lines.find((l) => l.rpc === "calldrop.v1.CallHistoryService/ListCalls");
    assert.equal(rpc?.level, level, JSON.stringify(lines));
  });
}

test("an RPC that succeeds is logged at debug", async () => {
  const { client, lines } = failingHistory(new Error("unused"));
  await client.getCall({ callId: "x" });
  assert.equal(lines.find((l) => l.rpc?.endsWith("/GetCall"))?.level, levels.debug);
});
