/** `npm start`: loads the config, builds the service and runs it until SIGTERM/SIGINT. */
import { createApp } from "./compose.ts";
import { loadConfig } from "./config.ts";

const config = loadConfig();
const app = await createApp(config);
const { port } = await app.start();

if (config.mode === "local") {
  const base = `http://${config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host}:${port}`;
  process.stdout.write(
    [
      "",
      `CallDrop calling is up on ${base} (gRPC, gRPC-Web, Connect, /metrics, /healthz, web client at /)`,
      `Get a dev token:   curl -s '${base}/dev/token?user=alice'`,
      `Make a test call:  npm run cli -- --server ${base} --user bob answer     (terminal 1)`,
      `                   npm run cli -- --server ${base} --user alice call bob (terminal 2)`,
      "",
    ].join("\n"),
  );
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "draining");
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, "stop failed");
        process.exit(1);
      },
    );
  });
}
