/** Child process: the stock PeerJS server (npm `peer`), relaying OFFER/ANSWER/CANDIDATE by peer id. */
import type { AddressInfo } from "node:net";
import { PeerServer } from "peer";
import { runServerChild } from "./server-child.ts";

await runServerChild(
  () =>
    new Promise((resolve) => {
      PeerServer(
        {
          host: "127.0.0.1",
          port: 0,
          path: "/",
          // Clients here send no HEARTBEAT (neither do the gRPC ones): keep them for the whole run.
          alive_timeout: 15 * 60_000,
          concurrent_limit: 100_000,
        },
        (server) => resolve((server.address() as AddressInfo).port),
      );
    }),
);
