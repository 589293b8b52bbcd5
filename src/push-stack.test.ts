/** The push stack built from config (docs/spec.md §8 "Mobile push contract"): direct senders enabled, or refused at boot with what is wrong. */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { createManualClock } from "./adapters/clock/manual-clock.ts";
import { loadConfig } from "./config.ts";
import { createPushStack } from "./push-stack.ts";

const dir = mkdtempSync(join(tmpdir(), "calldrop-push-stack-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
const account = {
  type: "service_account",
  project_id: "calldrop-test",
  private_key_id: "k1",
  private_key: rsa.toString(),
  client_email: "push@calldrop-test.iam.gserviceaccount.com",
  token_uri: "https://oauth2.googleapis.com/token",
};
const apns = (privateKeyPath: string) => ({
  keyId: "ABC123DEFG",
  teamId: "TEAM123456",
  privateKeyPath,
  bundleId: "com.calldrop.app",
});

function stack(notifications: object) {
  const config = loadConfig({}, { store: { sqlitePath: join(dir, "calldrop.db") }, notifications });
  return createPushStack(config, {
    clock: createManualClock(0),
    logger: pino({ level: "silent" }),
    registry: new Registry(),
    isLive: () => false,
  });
}

test("configured APNs and FCM are channels devices can register on", async () => {
  const s = stack({
    apns: apns(file("ok.p8", ec.toString())),
    fcm: { serviceAccountPath: file("ok.json", JSON.stringify(account)) },
  });
  assert.ok(s.notifier);
  const ios = await s.devices.register("u", "ios", { channel: "mobile", platform: "apns", token: "ab".repeat(32) });
  assert.equal(ios.target.channel, "apns");
  const pixel = await s.devices.register("u", "pixel", { channel: "mobile", platform: "fcm", token: "f".repeat(64) });
  assert.equal(pixel.target.channel, "fcm");
  await s.close();
});

test("an unusable key or service-account file stops the boot with the config key and the reason", () => {
  const cases: [object, RegExp][] = [
    [{ apns: apns(join(dir, "missing.p8")) }, /notifications\.apns\.privateKeyPath: cannot read/],
    [{ apns: apns(file("rsa.p8", rsa.toString())) }, /must be a P-256 \(ES256\) key/],
    [{ apns: apns(file("junk.p8", "junk")) }, /not a private key PEM/],
    [{ fcm: { serviceAccountPath: file("junk.json", "{") } }, /serviceAccountPath: cannot read .* as JSON/],
    [
      { fcm: { serviceAccountPath: file("partial.json", JSON.stringify({ ...account, token_uri: undefined })) } },
      /not a service-account key file[\s\S]*token_uri/,
    ],
    [
      { fcm: { serviceAccountPath: file("ec.json", JSON.stringify({ ...account, private_key: ec.toString() })) } },
      /private_key must be RSA/,
    ],
  ];
  for (const [notifications, message] of cases) assert.throws(() => stack(notifications), message);
});
