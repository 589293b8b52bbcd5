/**
 * Child process: opens `devices` idle mobile devices on the full server (each its own user, own
 * HTTP/2 connection, one `Connect` stream after hello), reports `opened`, holds them silently
 * until `release`, then closes them and reports `result`. Several run side by side to spread
 * the client load and file descriptors.
 */
import { createParentLink } from "../../lib/child-side.ts";
import { connectDevice, type Device, mapBounded } from "../full-server/device.ts";
import { mintToken } from "../full-server/tokens.ts";
import { createErrorLog } from "../relay-transport/load/pairs.ts";

/** What one idle load generator opens. */
export type IdleSpec = { port: number; devices: number; concurrency: number };

const parent = createParentLink(10 * 60_000);

parent.on("start", (message) => {
  const spec = message.spec as IdleSpec;
  const errors = createErrorLog();
  const t0 = performance.now();
  const userIds = Array.from({ length: spec.devices }, (_, i) => `idle${process.pid}.${i}`);
  const onEvent = () => undefined; // an idle device gets nothing after sessionReady
  mapBounded(
    userIds,
    spec.concurrency,
    async (userId): Promise<Device> =>
      connectDevice(
        { port: spec.port, token: await mintToken(userId), userId, deviceId: "phone" },
        { onEvent, onError: errors.add },
      ),
    (text) => errors.add(`open: ${text}`),
  ).then(
    (devices) => {
      parent.send({ type: "opened", devices: devices.length, openMs: performance.now() - t0, errors: errors.count });
      parent.on("release", () => {
        Promise.all(devices.map((d) => d.close())).then(() =>
          process.send?.({ type: "result", result: { errors: errors.count, errorSamples: errors.samples } }, () =>
            process.exit(0),
          ),
        );
      });
    },
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
});
