/** Child process: minimal SignalService.Connect relay served by connect-node on an h2c server. */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { createWritableIterable } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { type ConnectResponse, SignalService } from "../../../../gen/calldrop/v1/signal_pb.js";
import { createRelayHub } from "../relay-hub.ts";
import { runServerChild } from "./server-child.ts";

const hub = createRelayHub(Date.now);

const routes = (router: ConnectRouter) =>
  router.service(SignalService, {
    async *connect(requests) {
      const out = createWritableIterable<ConnectResponse>();
      const session = hub.open((response) => {
        // Not awaited: write() resolves when the response is consumed; the workload bounds the queue.
        out.write(response).catch(() => undefined);
      });
      void (async () => {
        try {
          for await (const request of requests) session.receive(request);
        } catch {
          // Client went away: the stream ends below.
        } finally {
          session.close();
          out.close();
        }
      })();
      yield* out;
    },
  });

await runServerChild(
  () =>
    new Promise((resolve) => {
      const server = http2.createServer(connectNodeAdapter({ routes }));
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    }),
);
