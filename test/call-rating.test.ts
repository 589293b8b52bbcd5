/**
 * Post-call rating against a real server process (docs/spec.md §15 "Post-call rating"): the
 * history says which calls are asked, RateCall stores the reader's rating and shows it to them
 * only, refusals carry their codes and messages, and /metrics counts ratings by score and reason.
 * The sample rate is 1, so every answered call is asked (src/app/call-rating.test.ts covers 0).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Device, historyClient, mobileDevice, webDevice } from "./support/devices.ts";
import { seriesValue } from "./support/metrics-scrape.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";

const Reason = { AUDIO_CHOPPY: 1, ECHO: 3, DROPPED: 5, UNSPECIFIED: 0 };
const unknownCallId = "0190f3a2-0000-7000-8000-000000000000";

let server: ServerProcess;
before(async () => {
  server = await startServer({ CALLDROP_CALLS__RATING_SAMPLE_RATE: "1" });
});
after(() => server?.stop());

let n = 0;
const user = (name: string) => `${name}-${++n}`;
const history = async (userId: string) => historyClient(server.baseUrl, await server.token(userId));

async function devices(): Promise<{ alice: Device; bob: Device }> {
  const a = user("alice");
  const b = user("bob");
  const alice = await mobileDevice({ baseUrl: server.baseUrl, token: await server.token(a), userId: a, deviceId: "p" });
  const bob = await webDevice({ baseUrl: server.baseUrl, token: await server.token(b), userId: b, deviceId: "w" });
  return { alice, bob };
}

/** An answered call, hung up once `hangUp`; resolves when its record has its outcome. */
async function call(hangUp = true) {
  const { alice, bob } = await devices();
  const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
  await bob.next("incomingCall");
  await bob.command("accept", { callId });
  await alice.next("callAccepted");
  if (hangUp) {
    await alice.command("hangup", { callId });
    const h = await history(alice.userId);
    await waitFor(async () => (await h.get(callId)).outcome !== 0, { what: `the outcome of ${callId}` });
  }
  return { alice, bob, callId };
}

const failsWith = (p: Promise<unknown>, code: string, message: RegExp) =>
  assert.rejects(p, (err: Error) => {
    assert.match(err.message, new RegExp(`\\[${code}\\]`), err.message);
    assert.match(err.message, message);
    return true;
  });

test("an ended, answered call is asked; each side's rating shows in its own history only", async () => {
  const { alice, bob, callId } = await call();
  const aliceHistory = await history(alice.userId);
  const bobHistory = await history(bob.userId);
  assert.equal((await aliceHistory.get(callId)).ratingRequested, true);

  const rated = await bobHistory.rate(callId, 2, [Reason.ECHO, Reason.AUDIO_CHOPPY], "  robot voice ");
  assert.deepEqual(
    [rated.calleeRating?.score, rated.calleeRating?.reasons, rated.calleeRating?.comment],
    [2, [Reason.AUDIO_CHOPPY, Reason.ECHO], "robot voice"],
  );
  const [listed] = (await bobHistory.list()).calls;
  assert.equal(listed.calleeRating?.score, 2, "bob's history shows his rating");
  assert.equal((await aliceHistory.get(callId)).calleeRating, undefined, "alice does not see bob's rating");

  // A retried request and then a change of mind.
  await bobHistory.rate(callId, 2, [Reason.ECHO, Reason.AUDIO_CHOPPY], "robot voice");
  assert.equal((await bobHistory.rate(callId, 3, [Reason.ECHO])).calleeRating?.score, 3);
  assert.equal((await aliceHistory.rate(callId, 5)).callerRating?.score, 5);
  assert.equal((await bobHistory.get(callId)).calleeRating?.score, 3);
  alice.drop();
  bob.drop();
});

test("refusals: bad score, reason and comment; unknown call; outsider; call in progress; declined call", async () => {
  const { alice, bob, callId } = await call();
  const h = await history(bob.userId);
  await failsWith(h.rate(callId, 0), "invalid_argument", /score must be a whole number from 1 to 5/);
  await failsWith(h.rate(callId, 6), "invalid_argument", /1 to 5/);
  await failsWith(h.rate(callId, 4, [Reason.UNSPECIFIED]), "invalid_argument", /unknown reason/);
  await failsWith(h.rate(callId, 4, [99]), "invalid_argument", /unknown reason/);
  await failsWith(h.rate(callId, 4, [], "x".repeat(501)), "invalid_argument", /at most 500 characters/);
  await failsWith(h.rate("not-a-call", 4), "invalid_argument", /call_id/);
  await failsWith(h.rate(unknownCallId, 4), "not_found", /no such call/);
  await failsWith((await history("outsider")).rate(callId, 4), "permission_denied", /participants/);

  const live = await call(false);
  await failsWith((await history(live.bob.userId)).rate(live.callId, 4), "failed_precondition", /not ended/);
  assert.equal((await (await history(live.bob.userId)).get(live.callId)).ratingRequested, false);

  const { callId: declined } = await alice.command("startCall", { calleeUserId: bob.userId });
  await bob.next("incomingCall");
  await bob.command("decline", { callId: declined });
  await waitFor(async () => (await h.get(declined)).outcome !== 0, { what: "the declined call's outcome" });
  assert.equal((await h.get(declined)).ratingRequested, false);
  await failsWith(h.rate(declined, 4), "failed_precondition", /answered/);
  for (const d of [alice, bob, live.alice, live.bob]) d.drop();
});

test("/metrics counts each rater's first rating by score and its reasons, every label from 0", async () => {
  const value = (name: string, labels: Record<string, string>) => seriesValue(server.baseUrl, name, labels);
  assert.notEqual(await value("calldrop_call_ratings_total", { score: "1" }), undefined, "known scores start at 0");
  assert.notEqual(await value("calldrop_call_rating_reasons_total", { reason: "video_frozen" }), undefined);
  const ones = (await value("calldrop_call_ratings_total", { score: "1" })) ?? 0;
  const dropped = (await value("calldrop_call_rating_reasons_total", { reason: "dropped" })) ?? 0;
  const { alice, bob, callId } = await call();
  const h = await history(alice.userId);
  await h.rate(callId, 1, [Reason.DROPPED]);
  await h.rate(callId, 1, [Reason.DROPPED]); // a retry
  assert.equal(await value("calldrop_call_ratings_total", { score: "1" }), ones + 1);
  assert.equal(await value("calldrop_call_rating_reasons_total", { reason: "dropped" }), dropped + 1);
  alice.drop();
  bob.drop();
});
