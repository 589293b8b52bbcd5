/** Webhook signatures (docs/spec.md §9 "Webhooks"): the Standard Webhooks test vector, rotation, replay window. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { signWebhook, verifyWebhook, WebhookVerificationError, webhookSecretKey } from "./webhook-signature.ts";

// The Standard Webhooks specification's published test vector: any receiver library of that
// specification verifies what this file signs.
const vector = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestampS: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const other = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
const refused = (why: RegExp) => (e: unknown) => e instanceof WebhookVerificationError && why.test(e.message);

test("signs the Standard Webhooks test vector, and verifies it", () => {
  const h = signWebhook(vector.id, vector.timestampS, vector.body, [vector.secret]);
  assert.deepEqual(h, {
    "webhook-id": vector.id,
    "webhook-timestamp": "1614265330",
    "webhook-signature": vector.signature,
  });
  const nowMs = vector.timestampS * 1000 + 1000;
  assert.deepEqual(verifyWebhook({ headers: h, body: vector.body, secrets: [vector.secret], nowMs }), {
    id: vector.id,
    timestampS: vector.timestampS,
  });
  assert.equal(
    verifyWebhook({ headers: new Headers({ ...h }), body: vector.body, secrets: [vector.secret], nowMs }).id,
    vector.id,
  );
});

test("during a rotation both secrets sign; a receiver knowing either one verifies", () => {
  const h = signWebhook("c1:ended", 1000, "{}", [vector.secret, other]);
  assert.equal(h["webhook-signature"].split(" ").length, 2);
  for (const secrets of [[vector.secret], [other], [other, vector.secret]]) {
    assert.equal(verifyWebhook({ headers: h, body: "{}", secrets, nowMs: 1_000_000 }).id, "c1:ended");
  }
});

test("a changed body, id or timestamp, another secret, or a timestamp over 5 minutes away is refused", () => {
  const h = signWebhook("c1:ended", 1000, "{}", [vector.secret]);
  const at = (nowS: number) => nowS * 1000;
  const secrets = [vector.secret];
  assert.throws(() => verifyWebhook({ headers: h, body: "{} ", secrets, nowMs: at(1000) }), refused(/no valid v1/));
  assert.throws(
    () => verifyWebhook({ headers: { ...h, "webhook-id": "c2:ended" }, body: "{}", secrets, nowMs: at(1000) }),
    refused(/no valid v1/),
  );
  assert.throws(
    () => verifyWebhook({ headers: { ...h, "webhook-timestamp": "1001" }, body: "{}", secrets, nowMs: at(1000) }),
    refused(/no valid v1/),
  );
  assert.throws(
    () => verifyWebhook({ headers: h, body: "{}", secrets: [other], nowMs: at(1000) }),
    refused(/no valid/),
  );
  assert.equal(verifyWebhook({ headers: h, body: "{}", secrets, nowMs: at(1300) }).id, "c1:ended", "5 min: still in");
  assert.throws(() => verifyWebhook({ headers: h, body: "{}", secrets, nowMs: at(1301) }), refused(/too old/));
  assert.throws(() => verifyWebhook({ headers: h, body: "{}", secrets, nowMs: at(699) }), refused(/too new/));
  assert.throws(
    () => verifyWebhook({ headers: { ...h, "webhook-signature": "v1a,AAAA" }, body: "{}", secrets, nowMs: at(1000) }),
    refused(/no valid v1/),
  );
  assert.throws(
    () => verifyWebhook({ headers: { ...h, "webhook-timestamp": "1e3" }, body: "{}", secrets, nowMs: at(1000) }),
    refused(/malformed/),
  );
  assert.throws(() => verifyWebhook({ headers: {}, body: "{}", secrets }), refused(/missing/));
});

test("a secret is whsec_ and the base64 of at least 24 bytes", () => {
  assert.equal(webhookSecretKey(vector.secret).length, 24);
  assert.throws(() => webhookSecretKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), /starts with "whsec_"/);
  assert.throws(() => webhookSecretKey("whsec_c2hvcnQ="), /at least 24 random bytes; this one has 5/);
  assert.throws(() => webhookSecretKey("whsec_not base64!"), /then base64/);
});
