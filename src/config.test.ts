import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "./config.ts";

test("defaults: local mode, 30 s ring timeout, embedded store", () => {
  const c = loadConfig({});
  assert.equal(c.mode, "local");
  assert.equal(c.calls.ringTimeoutMs, 30_000);
  assert.equal(c.store.kind, "sqlite");
});

test("environment overrides nested keys with typed values", () => {
  const c = loadConfig({
    CALLDROP_CALLS__RING_TIMEOUT_MS: "1500",
    CALLDROP_SERVER__HOST: "0.0.0.0",
    CALLDROP_TEST_X: "ignored",
  });
  assert.equal(c.calls.ringTimeoutMs, 1500);
  assert.equal(c.server.host, "0.0.0.0");
});

test("unknown keys and invalid values are rejected with the path in the message", () => {
  assert.throws(() => loadConfig({ CALLDROP_CALLS__RING_TIMEOUT: "5" }), /ringTimeout/);
  assert.throws(() => loadConfig({ CALLDROP_CALLS__RING_TIMEOUT_MS: "-1" }), /ringTimeoutMs/);
  assert.throws(() => loadConfig({ CALLDROP_NOPE: "1" }), /nope/);
});

test("production mode requires a verification key", () => {
  assert.throws(() => loadConfig({ CALLDROP_MODE: "production" }), /production mode needs/);
  assert.equal(
    loadConfig({ CALLDROP_MODE: "production", CALLDROP_AUTH__JWKS_URL: "https://idp.example/jwks" }).mode,
    "production",
  );
});

test("CORS origins: same origin only by default; each allowed origin must be a bare origin", () => {
  assert.deepEqual(loadConfig({}).server.corsAllowedOrigins, []);
  const allowed = ["https://chat.example.com", "http://localhost:5173"];
  const c = loadConfig({ CALLDROP_SERVER__CORS_ALLOWED_ORIGINS: JSON.stringify(allowed) });
  assert.deepEqual(c.server.corsAllowedOrigins, allowed);
  for (const bad of ["https://chat.example.com/", "https://chat.example.com/app", "*", "chat.example.com"]) {
    assert.throws(
      () => loadConfig({ CALLDROP_SERVER__CORS_ALLOWED_ORIGINS: JSON.stringify([bad]) }),
      /must be an origin[\s\S]*server\.corsAllowedOrigins\[0\]/,
      bad,
    );
  }
});

test("direct APNs and FCM: absent by default; ids, bundle, https base URLs and Apple's token-age bounds are checked", () => {
  assert.equal(loadConfig({}).notifications.apns, undefined);
  assert.equal(loadConfig({}).notifications.fcm, undefined);
  const apns = {
    keyId: "ABC123DEFG",
    teamId: "TEAM123456",
    privateKeyPath: "/secrets/apns.p8",
    bundleId: "com.calldrop.app",
  };
  const c = loadConfig({}, { notifications: { apns, fcm: { serviceAccountPath: "/secrets/fcm.json" } } });
  assert.equal(c.notifications.apns?.baseUrl, "https://api.push.apple.com");
  assert.equal(c.notifications.apns?.tokenRefreshMs, 40 * 60_000);
  assert.equal(c.notifications.fcm?.baseUrl, "https://fcm.googleapis.com");
  const bad: [object, RegExp][] = [
    [{ apns: { ...apns, keyId: "abc" } }, /10-character key id[\s\S]*notifications\.apns\.keyId/],
    [{ apns: { ...apns, teamId: "" } }, /team id[\s\S]*notifications\.apns\.teamId/],
    [{ apns: { ...apns, bundleId: "calldrop" } }, /bundle id[\s\S]*notifications\.apns\.bundleId/],
    [{ apns: { ...apns, baseUrl: "http://127.0.0.1:1" } }, /https URL[\s\S]*notifications\.apns\.baseUrl/],
    [{ apns: { ...apns, tokenRefreshMs: 60_000 } }, /at least 20 minutes/],
    [{ apns: { ...apns, tokenRefreshMs: 2 * 3_600_000 } }, /at most 60 minutes/],
    [{ apns: { ...apns, keyPem: "x" } }, /keyPem/],
    [{ fcm: { serviceAccountPath: "" } }, /notifications\.fcm\.serviceAccountPath/],
    [{ fcm: { serviceAccountPath: "/x", baseUrl: "ftp://fcm" } }, /https URL/],
  ];
  for (const [notifications, message] of bad) {
    assert.throws(() => loadConfig({}, { notifications }), message, JSON.stringify(notifications));
  }
});

test("presence shards: one shard on etcdEndpoints by default; a list of distinct etcd clusters otherwise", () => {
  const cluster = {
    CALLDROP_CLUSTER__ETCD_ENDPOINTS: '["etcd-0:2379"]',
    CALLDROP_CLUSTER__RELAY_SECRET: "relay-secret-0123456789",
  };
  assert.equal(loadConfig(cluster).cluster?.presenceShards, undefined);
  const shards = [{ endpoints: ["etcd-0:2379"] }, { endpoints: ["presence-1a:2379", "presence-1b:2379"] }];
  const c = loadConfig({ ...cluster, CALLDROP_CLUSTER__PRESENCE_SHARDS: JSON.stringify(shards) });
  assert.deepEqual(c.cluster?.presenceShards, shards);
  const bad: [unknown, RegExp][] = [
    [[], /cluster\.presenceShards/],
    [[{ endpoints: [] }], /cluster\.presenceShards\[0\]\.endpoints/],
    [
      [{ endpoints: ["a:1"] }, { endpoints: ["b:1", "a:1"] }],
      /a:1 is also in shard 0: each presence shard is its own etcd cluster[\s\S]*presenceShards\[1\]\.endpoints/,
    ],
    [[{ endpoints: ["a:1"], weight: 2 }], /weight/],
    [Array.from({ length: 17 }, (_, i) => ({ endpoints: [`e${i}:1`] })), /cluster\.presenceShards/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => loadConfig({ ...cluster, CALLDROP_CLUSTER__PRESENCE_SHARDS: JSON.stringify(value) }), message);
  }
});

test("ice: TURN over UDP, TCP and TLS URLs are validated; coturn's cap must stay above the relay bitrate hint", () => {
  const urls = ["turn:t.example:3478?transport=udp", "turn:t.example:3478?transport=tcp", "turns:t.example:443"];
  const c = loadConfig({ CALLDROP_ICE__TURN_URLS: JSON.stringify(urls), CALLDROP_ICE__TURN_SECRET: '"s"' });
  assert.deepEqual(c.ice.turnUrls, urls);
  assert.equal(c.ice.relayMaxBps, 500_000, "the default, equal to max-bps in k8s/base/coturn/turnserver.conf");
  assert.throws(
    () =>
      loadConfig({
        CALLDROP_ICE__TURN_URLS: '["turns:t.example:443?transport=udp"]',
        CALLDROP_ICE__TURN_SECRET: '"s"',
      }),
    /turns: is TLS over TCP, not udp: turns:t.example:443\?transport=udp/,
  );
  assert.throws(() => loadConfig({ CALLDROP_ICE__RELAY_MAX_BPS: "-5" }), /relayMaxBps/);
  assert.throws(
    () => loadConfig({ CALLDROP_ICE__RELAY_MAX_BPS: "20000", CALLDROP_CALLS__RELAY_MAX_BITRATE_BPS: "200000" }),
    /calls.relayMaxBitrateBps \(200000 bit\/s\) must not exceed coturn's cap ice.relayMaxBps \(20000 bytes\/s = 160000 bit\/s\)/,
  );
  const capped = loadConfig({ CALLDROP_ICE__RELAY_MAX_BPS: "20000", CALLDROP_CALLS__RELAY_MAX_BITRATE_BPS: "0" });
  assert.equal(capped.ice.relayMaxBps, 20_000);
  assert.equal(loadConfig({ CALLDROP_ICE__RELAY_MAX_BPS: "0" }).ice.relayMaxBps, 0, "0: no cap, any hint");
});

test('webhooks (docs/spec.md §9 "Webhooks"): endpoints with Standard Webhooks secrets; a bad URL or a short secret is refused', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
  const endpoints = (list: object[]) => ({ CALLDROP_WEBHOOKS__ENDPOINTS: JSON.stringify(list) });
  assert.deepEqual(loadConfig({}).webhooks.endpoints, []);
  const c = loadConfig(
    endpoints([{ name: "chat", url: "https://chat.internal/hooks", secrets: [secret, secret], outcomes: ["missed"] }]),
  );
  assert.deepEqual(c.webhooks.endpoints[0], {
    name: "chat",
    url: "https://chat.internal/hooks",
    secrets: [secret, secret],
    kinds: [],
    outcomes: ["missed"],
  });
  assert.equal(c.webhooks.maxAttempts, 12);
  const refused = (list: object[], why: RegExp, env: object = {}) =>
    assert.throws(() => loadConfig({ ...endpoints(list), ...env }), why);
  const ok = { name: "chat", url: "https://chat.internal/hooks", secrets: [secret] };
  refused([{ ...ok, url: "not a url" }], /must be an http\(s\) URL[\s\S]*webhooks\.endpoints\[0\]\.url/);
  refused([{ ...ok, url: "ftp://chat.internal/" }], /must be an http\(s\) URL/);
  refused([{ ...ok, secrets: ["whsec_c2hvcnQ="] }], /at least 24 random bytes; this one has 5[\s\S]*secrets\[0\]/);
  refused([{ ...ok, secrets: ["plain-secret-but-long-enough-0123456789"] }], /starts with "whsec_"/);
  refused([{ ...ok, secrets: [] }], /secrets/);
  refused([{ ...ok, secrets: [secret, secret, secret] }], /secrets/);
  refused([{ ...ok, name: "Chat Backend" }], /must be 1–64 of a-z/);
  refused([ok, ok], /chat is used twice/);
  refused([{ ...ok, kinds: ["rang"] }], /kinds/);
  refused([{ ...ok, outcomes: ["lost"] }], /outcomes/);
  refused([{ ...ok, url: "http://chat.internal/hooks" }], /has an http:\/\/ URL; use https/, {
    CALLDROP_MODE: "production",
    CALLDROP_AUTH__JWKS_URL: "https://idp.example/jwks",
  });
  assert.throws(
    () => loadConfig({ CALLDROP_WEBHOOKS__INITIAL_BACKOFF_MS: "5000", CALLDROP_WEBHOOKS__MAX_BACKOFF_MS: "1000" }),
    /initialBackoffMs exceeds/,
  );
});
