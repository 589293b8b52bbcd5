/**
 * Child process: the consumers of the call-events bench, one CallEventsService.Subscribe stream
 * per group over gRPC (connect-node's HTTP/2 transport, a service token with
 * `calls.events:read`), from now on. Replies `opened` once every stream has its first heartbeat,
 * counts events between `window-open` and `window-close`, then replies `counted`.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CallEventsService } from "../../../gen/calldrop/internal/v1/events_pb.js";
import { createParentLink } from "../../lib/child-side.ts";
import { summarize } from "../../lib/stats.ts";
import { mintServiceToken } from "../full-server/tokens.ts";
import type { ConsumersCount, ConsumersSpec } from "./protocol.ts";

const parent = createParentLink(10 * 60_000);
const stop = new AbortController();
let counting = false;
let events = 0;
let lags: number[] = [];
let errors = 0;
const errorSamples: string[] = [];
let openedAt = 0;

parent.on("start", async (message) => {
  const spec = message.spec as ConsumersSpec;
  const client = createClient(CallEventsService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${spec.port}` }));
  const token = await mintServiceToken("bench-consumer", "calls.events:read");
  let ready = 0;
  for (const group of spec.groups) {
    (async () => {
      const stream = client.subscribe(
        { group, memberIndex: 0, memberCount: 1 },
        { headers: { authorization: `Bearer ${token}` }, signal: stop.signal },
      );
      let first = true;
      for await (const res of stream) {
        if (first) {
          first = false;
          if (++ready === spec.groups.length) parent.send({ type: "opened" });
        }
        if (!res.event || !counting) continue;
        events++;
        const at = res.event.occurredAt;
        if (at) lags.push(Date.now() - (Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)));
      }
    })().catch((e: unknown) => {
      if (stop.signal.aborted) return;
      errors++;
      if (errorSamples.length < 3) errorSamples.push(String((e as Error).message).slice(0, 200));
    });
  }
});

parent.on("window-open", () => {
  events = 0;
  lags = [];
  counting = true;
  openedAt = Date.now();
});

parent.on("window-close", () => {
  counting = false;
  const count: ConsumersCount = {
    type: "counted",
    measuredMs: Date.now() - openedAt,
    events,
    lag: summarize(lags),
    errors,
    errorSamples,
  };
  parent.send(count);
  stop.abort();
});
