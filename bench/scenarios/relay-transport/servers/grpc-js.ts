/** Child process: the same relay on a bare @grpc/grpc-js server (the transport-cost floor). */
import * as grpc from "@grpc/grpc-js";
import { type ConnectRequest, type ConnectResponse, SignalService } from "../../../../gen/calldrop/v1/signal_pb.js";
import { grpcServiceDefinition } from "../grpc-definition.ts";
import { createRelayHub } from "../relay-hub.ts";
import { runServerChild } from "./server-child.ts";

const hub = createRelayHub(Date.now);

function connect(call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>): void {
  const session = hub.open((response) => call.write(response));
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    session.close();
  };
  call.on("data", (request: ConnectRequest) => session.receive(request));
  call.on("end", () => {
    close();
    call.end();
  });
  call.on("error", close);
  call.on("cancelled", close);
}

await runServerChild(
  () =>
    new Promise((resolve, reject) => {
      const server = new grpc.Server();
      server.addService(grpcServiceDefinition(SignalService), { connect });
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    }),
);
