import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import {
  buildIceServers,
  DEFAULT_ICE_CONFIG,
  type IceConfig,
  turnCredential,
  validateIceConfig,
} from "./ice-servers.ts";

const config: IceConfig = {
  stunUrls: ["stun:127.0.0.1:3478"],
  turnUrls: ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
  turnSecret: "s3cret",
  credentialTtlS: 600,
  forceRelay: false,
};
const NOW_MS = 1_700_000_000_500;

describe("buildIceServers", () => {
  it("returns STUN, then TURN with a REST credential that expires after the TTL", () => {
    const answer = buildIceServers(config, { userId: "alice" }, NOW_MS);
    assert.equal(answer.ttlSeconds, 600);
    assert.equal(answer.relayOnly, false);
    assert.deepEqual(answer.iceServers[0], { urls: ["stun:127.0.0.1:3478"], username: "", credential: "" });
    const turn = answer.iceServers[1];
    assert.deepEqual(turn?.urls, config.turnUrls);
    assert.equal(turn?.username, "1700000600:alice");
    // coturn use-auth-secret: base64(HMAC-SHA1(secret, username)); the vector was computed with Python hmac.
    assert.equal(turn?.credential, createHmac("sha1", "s3cret").update("1700000600:alice").digest("base64"));
    assert.equal(turnCredential("s3cret", "1700000600:alice"), "bUIJIVaC05oyFgKsQvKAparqg1Q=");
  });

  it("scopes the credential to the call when a call id is given", () => {
    const turn = buildIceServers(config, { userId: "alice", callId: "c-42" }, NOW_MS).iceServers[1];
    assert.equal(turn?.username, "1700000600:c-42");
  });

  it("passes relay-only through and omits empty groups", () => {
    const onlyTurn = buildIceServers({ ...config, stunUrls: [], forceRelay: true }, { userId: "bob" }, NOW_MS);
    assert.equal(onlyTurn.iceServers.length, 1);
    assert.equal(onlyTurn.relayOnly, true);
    const none = buildIceServers(DEFAULT_ICE_CONFIG, { userId: "bob" }, NOW_MS);
    assert.deepEqual(none, { iceServers: [], ttlSeconds: 0, relayOnly: false });
  });

  it("refuses TURN URLs without a secret", () => {
    assert.throws(() => buildIceServers({ ...config, turnSecret: "" }, { userId: "a" }, NOW_MS), /turnSecret/);
  });
});

describe("validateIceConfig", () => {
  it("accepts the defaults and a full config", () => {
    assert.deepEqual(validateIceConfig(DEFAULT_ICE_CONFIG), []);
    assert.deepEqual(validateIceConfig(config), []);
  });

  it("names every problem", () => {
    const problems = validateIceConfig({
      stunUrls: ["http://x"],
      turnUrls: ["turn:x"],
      turnSecret: "",
      credentialTtlS: 5,
      forceRelay: false,
    });
    assert.equal(problems.length, 3);
    assert.deepEqual(validateIceConfig({ ...DEFAULT_ICE_CONFIG, forceRelay: true }), ["ice.forceRelay needs turnUrls"]);
  });
});
