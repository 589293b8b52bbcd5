import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { nodeDigests } from "../adapters/crypto/node-digests.ts";
import type { CallState } from "../domain/call-types.ts";
import { type DomainErrorCode, isDomainError } from "../domain/errors.ts";
import {
  buildIceServers,
  checkIceServersRequest,
  DEFAULT_ICE_CONFIG,
  type IceConfig,
  turnCredential,
  turnTransport,
  turnUsername,
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
    const answer = buildIceServers(config, { userId: "alice" }, NOW_MS, nodeDigests);
    assert.equal(answer.ttlSeconds, 600);
    assert.equal(answer.relayOnly, false);
    assert.deepEqual(answer.iceServers[0], { urls: ["stun:127.0.0.1:3478"], username: "", credential: "" });
    const turn = answer.iceServers[1];
    assert.deepEqual(turn?.urls, config.turnUrls);
    assert.equal(turn?.username, "1700000600:alice");
    // coturn use-auth-secret: base64(HMAC-SHA1(secret, username)); the vector was computed with Python hmac.
    assert.equal(turn?.credential, createHmac("sha1", "s3cret").update("1700000600:alice").digest("base64"));
    assert.equal(turnCredential("s3cret", "1700000600:alice", nodeDigests), "bUIJIVaC05oyFgKsQvKAparqg1Q=");
  });

  it("scopes the credential to the call when a call id is given", () => {
    const turn = buildIceServers(config, { userId: "alice", callId: "c-42" }, NOW_MS, nodeDigests).iceServers[1];
    assert.equal(turn?.username, "1700000600:c-42");
  });

  it("passes relay-only through and omits empty groups", () => {
    const onlyTurn = buildIceServers(
      { ...config, stunUrls: [], forceRelay: true },
      { userId: "bob" },
      NOW_MS,
      nodeDigests,
    );
    assert.equal(onlyTurn.iceServers.length, 1);
    assert.equal(onlyTurn.relayOnly, true);
    const none = buildIceServers(DEFAULT_ICE_CONFIG, { userId: "bob" }, NOW_MS, nodeDigests);
    assert.deepEqual(none, { iceServers: [], ttlSeconds: 0, relayOnly: false });
  });

  it("answers TURN over UDP, then TCP, then TLS, whatever the configured order (docs/spec.md §5)", () => {
    const urls = [
      "turns:turn.example.com:443?transport=tcp",
      "turn:turn.example.com:3478?transport=tcp",
      "turn:turn.example.com:3478",
      "turns:turn.example.com:5349",
      "turn:turn.example.com:3478?transport=udp",
    ];
    const turn = buildIceServers({ ...config, turnUrls: urls }, { userId: "alice" }, NOW_MS, nodeDigests).iceServers[1];
    assert.deepEqual(turn?.urls, [
      "turn:turn.example.com:3478",
      "turn:turn.example.com:3478?transport=udp",
      "turn:turn.example.com:3478?transport=tcp",
      "turns:turn.example.com:443?transport=tcp",
      "turns:turn.example.com:5349",
    ]);
  });

  it("refuses TURN URLs without a secret", () => {
    assert.throws(
      () => buildIceServers({ ...config, turnSecret: "" }, { userId: "a" }, NOW_MS, nodeDigests),
      /turnSecret/,
    );
  });
});

describe("checkIceServersRequest", () => {
  const ringing = "0190f3a2-0000-7000-8000-000000000001";
  const ended = "0190f3a2-0000-7000-8000-000000000002";
  const call = (callId: string) => ({
    callId,
    caller: { userId: "alice", deviceId: "p" },
    calleeUserId: "bob",
    video: false,
    startedAtMs: 0,
    ringDeadlineMs: 30_000,
  });
  const states: Record<string, CallState> = {
    [ringing]: { phase: "ringing", call: call(ringing), ringing: ["w"], pushed: false },
    [ended]: { phase: "ended", call: call(ended), end: { outcome: "completed", reason: "hangup", endedAtMs: 1 } },
  };
  const directory = {
    find: async (callId: string) => {
      const state = states[callId];
      return state && { callId, ownerNodeId: "n1", state };
    },
  };
  const refusedWith = (code: DomainErrorCode) => (err: unknown) => isDomainError(err, code);

  it("lets anyone have a user-scoped credential, and the participants one for their call", async () => {
    await checkIceServersRequest({ userId: "mallory" }, directory);
    await checkIceServersRequest({ userId: "mallory", callId: "" }, directory);
    await checkIceServersRequest({ userId: "alice", callId: ringing }, directory);
    await checkIceServersRequest({ userId: "bob", callId: ringing }, directory);
  });

  it("refuses malformed call ids as invalid_argument", async () => {
    for (const callId of ["../../../etc/passwd", "a\u0000b", "x".repeat(10_000), "1:2:3", ringing.toUpperCase()]) {
      await assert.rejects(checkIceServersRequest({ userId: "alice", callId }, directory), (err: Error) => {
        assert.ok(isDomainError(err, "invalid_argument"), String(err));
        assert.match(err.message, /call_id/);
        return true;
      });
    }
  });

  it("refuses someone else's call as not_participant, and unknown or ended calls as not_found", async () => {
    await assert.rejects(
      checkIceServersRequest({ userId: "mallory", callId: ringing }, directory),
      refusedWith("not_participant"),
    );
    const unknown = "0190f3a2-0000-7000-8000-000000000003";
    await assert.rejects(
      checkIceServersRequest({ userId: "alice", callId: unknown }, directory),
      refusedWith("not_found"),
    );
    await assert.rejects(
      checkIceServersRequest({ userId: "alice", callId: ended }, directory),
      refusedWith("not_found"),
    );
  });

  it("turnUsername never takes an id with ':' or control characters", () => {
    for (const id of ["1:2:3", "a\u0000b", "a b", "\u00e9", ""]) assert.throws(() => turnUsername(1, id), /printable/);
    assert.equal(turnUsername(1.9, "alice@example.com"), "1:alice@example.com");
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

  it("knows each TURN URL's transport and refuses URLs a browser cannot use", () => {
    assert.equal(turnTransport("turn:h"), "udp");
    assert.equal(turnTransport("turn:h:3478?transport=udp"), "udp");
    assert.equal(turnTransport("turn:10.0.0.1:3478?transport=tcp"), "tcp");
    assert.equal(turnTransport("turns:h:443?transport=tcp"), "tls");
    assert.equal(turnTransport("turns:[2001:db8::1]:443"), "tls");
    const bad = {
      "turns:h:443?transport=udp": /TLS over TCP, not udp/,
      "turn:h:0": /bad port/,
      "turn:h:70000": /bad port/,
      "turn:h:3478?transport=sctp": /not a TURN URL/,
      "turn://h:3478": /not a TURN URL/,
      "stun:h:3478": /not a TURN URL/,
      "turn:user@h": /not a TURN URL/,
    };
    for (const [url, message] of Object.entries(bad)) {
      const problems = validateIceConfig({ ...config, turnUrls: [url] });
      assert.equal(problems.length, 1, `${url}: ${problems}`);
      assert.match(problems[0] ?? "", message, url);
      assert.ok(problems[0]?.includes(url), "the problem names the URL");
    }
    assert.deepEqual(validateIceConfig({ ...config, turnUrls: ["turn:h", "turn:h"] }), [
      "ice.turnUrls lists a URL twice",
    ]);
    assert.deepEqual(validateIceConfig({ ...config, stunUrls: ["turn:h"] }), ["ice: not a STUN URL: turn:h"]);
    assert.deepEqual(validateIceConfig({ ...config, relayMaxBps: -1 }), [
      "ice.relayMaxBps must be an integer ≥ 0 (bytes/s, 0 = none)",
    ]);
  });
});
