/**
 * Signed webhooks against the real server (docs/spec.md §9 "Webhooks"), with local HTTP receivers:
 * a call's events arrive in order, signed (verified with the shipped verifier, by either secret of
 * a rotation), the body being the event's proto JSON; a receiver that answers 500 three times gets
 * the event on the fourth try, once; a missed-calls filter gets only missed calls' `ended`; an
 * event failing every attempt, or refused with a 4xx, is dead-lettered, listed and replayed by
 * `npm run webhooks`; a server killed while it retries continues the stored schedule after its
 * restart, under the same webhook-id.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { fromJsonString } from "@bufbuild/protobuf";
import { CallEventSchema } from "../gen/calldrop/internal/v1/events_pb.js";
import { CallOutcome } from "../gen/calldrop/v1/call_pb.js";
import { verifyWebhook, WebhookVerificationError } from "../src/codec/webhook-signature.ts";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { seriesValue } from "./support/metrics-scrape.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";
import { waitFor } from "./support/wait-for.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.ts";

const root = join(import.meta.dirname, "..");
const secret = () => `whsec_${randomBytes(32).toString("base64")}`;
const kindOf = (id: string) => id.slice(id.lastIndexOf(":") + 1);

/** Runs `npm run webhooks -- …args` with the server's config. */
async function webhooksCli(env: Record<string, string>, ...args: string[]) {
  const run = promisify(execFile);
  return run(join(root, "node_modules/.bin/node"), ["src/webhook-cli.ts", ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Calls on a server: fresh users each time. */
function calls(server: () => ServerProcess) {
  let users = 0;
  const device = async (userId: string, web = false) => {
    const s = server();
    const o = { baseUrl: s.baseUrl, token: await s.token(userId), userId, deviceId: web ? "w" : "p" };
    return web ? webDevice(o) : mobileDevice(o);
  };
  return {
    /** A call to a user with no device: started and ended (unreachable) at once. */
    async unreachable() {
      const n = users++;
      const d = await device(`lonely${n}`);
      const { callId } = await d.command("startCall", { calleeUserId: `nobody${n}` });
      await d.next("callEnded", (v) => v.callId === callId);
      d.drop();
      return callId as string;
    },
    /** A call answered on the callee's browser, then hung up by the caller. */
    async answered() {
      const n = users++;
      const alice = await device(`caller${n}`);
      const bob = await device(`callee${n}`, true);
      const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
      await bob.next("incomingCall", (v) => v.callId === callId);
      await bob.command("accept", { callId });
      await alice.next("callAccepted", (v) => v.callId === callId);
      await alice.command("hangup", { callId });
      await bob.next("callEnded", (v) => v.callId === callId);
      alice.drop();
      bob.drop();
      return callId as string;
    },
    /** A call the online callee lets ring out (missed). */
    async missed() {
      const n = users++;
      const alice = await device(`ringer${n}`);
      const bob = await device(`away${n}`);
      const { callId } = await alice.command("startCall", { calleeUserId: bob.userId });
      await bob.next("incomingCall", (v) => v.callId === callId);
      await alice.next("callEnded", (v) => v.callId === callId, 15_000);
      alice.drop();
      bob.drop();
      return callId as string;
    },
  };
}

describe("webhooks", () => {
  const rotation = [secret(), secret()];
  const receivers: Record<string, WebhookReceiver> = {};
  const secrets: Record<string, string[]> = {};
  let server: ServerProcess;
  let env: Record<string, string>;
  const call = calls(() => server);

  before(async () => {
    receivers.all = await startWebhookReceiver();
    // Each event: 500, 500, 500, then 200.
    receivers.flaky = await startWebhookReceiver(({ nth }) => (nth <= 3 ? 500 : 200));
    receivers.missed = await startWebhookReceiver();
    receivers.down = await startWebhookReceiver(() => 503);
    receivers.refusing = await startWebhookReceiver(() => 400);
    const endpoint = (name: string, extra: { secrets?: string[]; kinds?: string[]; outcomes?: string[] } = {}) => {
      secrets[name] = extra.secrets ?? [secret()];
      return { name, url: receivers[name]?.url, ...extra, secrets: secrets[name] };
    };
    env = {
      CALLDROP_WEBHOOKS__ENDPOINTS: JSON.stringify([
        endpoint("all", { secrets: rotation }),
        endpoint("flaky", { kinds: ["ended"] }),
        endpoint("missed", { outcomes: ["missed"] }),
        endpoint("down", { kinds: ["ended"] }),
        endpoint("refusing", { kinds: ["ended"] }),
      ]),
      CALLDROP_WEBHOOKS__MAX_ATTEMPTS: "5",
      CALLDROP_WEBHOOKS__INITIAL_BACKOFF_MS: "50",
      CALLDROP_WEBHOOKS__MAX_BACKOFF_MS: "200",
      CALLDROP_WEBHOOKS__POLL_INTERVAL_MS: "50",
      CALLDROP_WEBHOOKS__CLAIM_CHECK_INTERVAL_MS: "100",
      CALLDROP_CALLS__RING_TIMEOUT_MS: "1500",
    };
    server = await startServer(env);
    env.CALLDROP_STORE__SQLITE_PATH = join(server.dataDir, "calls.db");
  });
  after(async () => {
    await server?.stop();
    for (const r of Object.values(receivers)) await r.close();
  });

  test("a call's events arrive in order, signed with both secrets of a rotation, the body its proto JSON", async () => {
    const all = receivers.all as WebhookReceiver;
    const callId = await call.answered();
    await waitFor(() => all.of(`${callId}:ended`).length > 0, { what: "the ended webhook" });
    const mine = all.received.filter((r) => r.id.startsWith(`${callId}:`));
    assert.deepEqual(
      mine.map((r) => kindOf(r.id)),
      ["started", "answered", "ended"],
    );
    for (const r of mine) {
      assert.equal(r.headers["content-type"], "application/json");
      for (const secrets of [[rotation[0] as string], [rotation[1] as string]]) {
        assert.equal(verifyWebhook({ headers: r.headers, body: r.body, secrets }).id, r.id, "either secret verifies");
      }
      const event = fromJsonString(CallEventSchema, r.body);
      assert.equal(event.eventId, r.id, "webhook-id is the event id");
      assert.equal(event.callId, callId);
    }
    const ended = fromJsonString(CallEventSchema, (mine[2] as { body: string }).body);
    assert.ok(ended.kind.case === "ended");
    assert.equal(ended.kind.value.outcome, CallOutcome.COMPLETED);
    const r = mine[0] as { headers: Record<string, string | string[] | undefined>; body: string };
    const refused = (input: Parameters<typeof verifyWebhook>[0], why: RegExp) =>
      assert.throws(
        () => verifyWebhook(input),
        (e: unknown) => e instanceof WebhookVerificationError && why.test(e.message),
      );
    refused({ headers: r.headers, body: `${r.body} `, secrets: rotation }, /no valid v1 signature/);
    refused({ headers: r.headers, body: r.body, secrets: [secret()] }, /no valid v1 signature/);
    refused({ headers: r.headers, body: r.body, secrets: rotation, nowMs: Date.now() + 6 * 60_000 }, /too old/);
    refused(
      { headers: { ...r.headers, "webhook-id": `${callId}:ended` }, body: r.body, secrets: rotation },
      /no valid/,
    );
    refused({ headers: {}, body: r.body, secrets: rotation }, /missing webhook-\* headers/);
  });

  test("a receiver answering 500 three times gets the event on the fourth try, once", async () => {
    const flaky = receivers.flaky as WebhookReceiver;
    const id = `${await call.unreachable()}:ended`;
    await waitFor(() => flaky.delivered().some((r) => r.id === id), { what: "the delivery on the fourth try" });
    assert.deepEqual(
      flaky.of(id).map((r) => r.status),
      [500, 500, 500, 200],
    );
    const attempts = flaky.of(id).map((r) => r.headers["webhook-timestamp"]);
    assert.ok(
      attempts.every((t) => /^\d+$/.test(String(t))),
      "each attempt is timestamped",
    );
    assert.ok(
      ((await seriesValue(server.baseUrl, "calldrop_webhook_attempts_total", { webhook: "flaky", result: "5xx" })) ??
        0) >= 3,
    );
  });

  test("a missed-calls filter gets only the ended events of missed calls", async () => {
    const missed = receivers.missed as WebhookReceiver;
    const all = receivers.all as WebhookReceiver;
    const answered = await call.answered();
    const callId = await call.missed();
    await waitFor(() => missed.of(`${callId}:ended`).length > 0, { what: "the missed call's webhook" });
    await waitFor(() => all.of(`${answered}:ended`).length > 0 && all.of(`${callId}:ended`).length > 0, {
      what: "both calls' ended webhooks on the unfiltered endpoint",
    });
    const event = fromJsonString(CallEventSchema, (missed.of(`${callId}:ended`)[0] as { body: string }).body);
    assert.ok(event.kind.case === "ended" && event.kind.value.outcome === CallOutcome.MISSED);
    for (const r of missed.received) {
      assert.equal(kindOf(r.id), "ended");
      const e = fromJsonString(CallEventSchema, r.body);
      assert.ok(e.kind.case === "ended" && e.kind.value.outcome === CallOutcome.MISSED, `${r.id} is a missed call`);
    }
  });

  test("an event failing every attempt, or refused with a 4xx, is dead-lettered, listed and replayable", async () => {
    const down = receivers.down as WebhookReceiver;
    const refusing = receivers.refusing as WebhookReceiver;
    const deadLetters = async (endpoint: string, reason: string) =>
      (await seriesValue(server.baseUrl, "calldrop_webhook_dead_letters_total", { webhook: endpoint, reason })) ?? 0;
    const before = {
      down: await deadLetters("down", "exhausted"),
      refusing: await deadLetters("refusing", "rejected"),
    };
    const id = `${await call.unreachable()}:ended`;
    await waitFor(async () => down.of(id).length === 5 && (await deadLetters("down", "exhausted")) > before.down, {
      what: "five attempts, then the dead letter",
      state: () => down.of(id).map((r) => r.status),
    });
    await waitFor(async () => (await deadLetters("refusing", "rejected")) > before.refusing && refusing.of(id).length, {
      what: "the rejection",
    });
    assert.equal(refusing.of(id).length, 1, "a 400 is not retried");

    const listed = await webhooksCli(env, "dead-letters", "down");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${id}\\tpartition \\d+\\t5 attempt\\(s\\)\\t.*\\tHTTP 503$`, "m"));

    down.respond(() => 200);
    const replayed = await webhooksCli(env, "replay", "down", id);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, new RegExp(`^${id}\\treplayed$`, "m"));
    assert.deepEqual(
      down.of(id).map((r) => r.status),
      [503, 503, 503, 503, 503, 200],
    );
    const replay = down.of(id)[5] as { headers: Record<string, string | string[] | undefined>; body: string };
    assert.equal(verifyWebhook({ ...replay, secrets: secrets.down as string[] }).id, id, "the replay is signed too");
    assert.doesNotMatch((await webhooksCli(env, "dead-letters", "down")).stdout, new RegExp(id));
    const unknown = await webhooksCli(env, "replay", "nosuch");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no webhook endpoint nosuch/);
  });

  test("every event was delivered at most once to every endpoint", () => {
    for (const [name, r] of Object.entries(receivers)) {
      const ids = r.delivered().map((d) => d.id);
      assert.equal(new Set(ids).size, ids.length, `${name}: no event delivered twice`);
    }
  });
});

describe("webhooks across a restart", () => {
  let receiver: WebhookReceiver;
  let server: ServerProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "calldrop-wh-"));
  const call = calls(() => server as ServerProcess);
  after(async () => {
    await server?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a server killed while it retries an event continues its schedule after the restart, same webhook-id", async () => {
    receiver = await startWebhookReceiver(({ nth }) => (nth <= 3 ? 500 : 200));
    const env = {
      CALLDROP_WEBHOOKS__ENDPOINTS: JSON.stringify([
        { name: "ops", url: receiver.url, secrets: [secret()], kinds: ["ended"] },
      ]),
      CALLDROP_WEBHOOKS__MAX_ATTEMPTS: "6",
      CALLDROP_WEBHOOKS__INITIAL_BACKOFF_MS: "400",
      CALLDROP_WEBHOOKS__MAX_BACKOFF_MS: "400",
      CALLDROP_WEBHOOKS__POLL_INTERVAL_MS: "50",
    };
    server = await startServer(env, dir);
    const id = `${await call.unreachable()}:ended`;
    // The state file says two attempts failed: the schedule is stored before the wait.
    const stored = () => {
      const db = new DatabaseSync(join(dir, "calls.db"), { readOnly: true });
      try {
        return db
          .prepare("SELECT attempts FROM webhook_cursors WHERE endpoint = 'ops' AND pending_event_id = ?")
          .get(id) as { attempts: number } | undefined;
      } finally {
        db.close();
      }
    };
    await waitFor(() => stored()?.attempts === 2, { what: "two failed attempts stored", state: stored });
    await server.stop({ keepData: true, signal: "SIGKILL" });
    server = await startServer(env, dir);
    await waitFor(() => stored()?.attempts === 3, {
      what: "the third attempt, by the restarted server, counted after the first two",
      state: stored,
    });
    await waitFor(() => receiver.delivered().length > 0, { what: "the delivery after the restart" });
    assert.deepEqual(
      receiver.of(id).map((r) => r.status),
      [500, 500, 500, 200],
      "every attempt under the same webhook-id, none lost, none repeated",
    );
    assert.equal(receiver.received.length, 4, "nothing else was sent");
  });
});
