/**
 * The direct mobile senders of a test file and the local peers they talk to (docs/spec.md §8
 * "Mobile push contract"): an APNs peer and an FCM peer, started before the file's tests and
 * stopped after (with the harness), trusting fresh keys; `senders()` builds APNs and FCM senders
 * with fresh token caches on the harness's manual clock.
 */
import { generateKeyPairSync } from "node:crypto";
import { after, before } from "node:test";
import { createApnsProviderToken } from "../../src/adapters/notify/apns-provider-token.ts";
import { type ApnsSender, createApnsSender } from "../../src/adapters/notify/apns-sender.ts";
import { createFcmAccessToken } from "../../src/adapters/notify/fcm-access-token.ts";
import { createFcmSender } from "../../src/adapters/notify/fcm-sender.ts";
import type { PushSenders } from "../../src/app/notification-dispatcher.ts";
import type { ApnsTarget, FcmTarget } from "../../src/app/ports/push-registry.ts";
import type { Harness } from "./harness.ts";
import { type LocalApns, startLocalApns } from "./local-apns.ts";
import { type LocalFcm, startLocalFcm } from "./local-fcm.ts";

/** The app's bundle id in tests. */
export const bundleId = "com.calldrop.app";
const keyId = "ABC123DEFG";
const teamId = "TEAM123456";
const projectId = "calldrop-test";
const clientEmail = "push@calldrop-test.iam.gserviceaccount.com";

/** A 32-byte hex APNs token made of one repeated byte. */
export const hex = (n: number) => n.toString(16).padStart(2, "0").repeat(32);

/** An iPhone with a PushKit token and optionally a regular one. */
export const iphone = (voip: number, alert?: number): ApnsTarget => ({
  channel: "apns",
  platform: "apns",
  token: hex(voip),
  ...(alert === undefined ? {} : { alertToken: hex(alert) }),
});

/** An Android phone's FCM target. */
export const android = (name: string): FcmTarget => ({
  channel: "fcm",
  platform: "fcm",
  token: `${name}:APA91b${"x".repeat(40)}`,
});

/** The peers of a test file and a builder of senders. */
export interface MobilePeers {
  readonly apns: LocalApns;
  readonly fcm: LocalFcm;
  /** New APNs and FCM senders (empty token caches); the previous APNs connection is closed. */
  senders(): PushSenders;
}

/** Starts the peers before the file's tests; stops them (and disposes the harness) after. */
export function useMobilePeers(h: Harness): MobilePeers {
  const now = () => h.clock.now();
  const apnsKey = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const fcmKey = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const state = {} as { apns: LocalApns; fcm: LocalFcm; sender?: ApnsSender };
  before(async () => {
    state.apns = await startLocalApns({ keyId, teamId, publicKeyPem: apnsKey.publicKey, bundleId, now });
    state.fcm = await startLocalFcm({ projectId, clientEmail, publicKeyPem: fcmKey.publicKey });
  });
  after(async () => {
    await state.sender?.close();
    await state.apns.close();
    await state.fcm.close();
    h.dispose();
  });
  return {
    get apns() {
      return state.apns;
    },
    get fcm() {
      return state.fcm;
    },
    senders() {
      void state.sender?.close();
      const token = createApnsProviderToken({ keyId, teamId, privateKeyPem: apnsKey.privateKey, now });
      const apns = createApnsSender({ baseUrl: state.apns.url, ca: state.apns.ca, bundleId, now, token });
      state.sender = apns;
      const account = {
        type: "service_account" as const,
        project_id: projectId,
        private_key_id: "key-1",
        private_key: fcmKey.privateKey,
        client_email: clientEmail,
        token_uri: state.fcm.tokenUri,
      };
      const fcmToken = createFcmAccessToken({ account, now });
      return { apns, fcm: createFcmSender({ baseUrl: state.fcm.url, projectId, token: fcmToken }) };
    },
  };
}
