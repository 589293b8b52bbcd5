/**
 * `npm run webhooks`: the dead letters of the webhook endpoints (docs/spec.md §9 "Webhooks"), read
 * from the store of the same config as the server (CALLDROP_CONFIG, CALLDROP_*).
 *
 *   npm run webhooks -- dead-letters ENDPOINT            # one line per dead letter, oldest first
 *   npm run webhooks -- replay ENDPOINT [EVENT_ID...]    # sends them again (all when none named)
 *
 * A replay sends the event once, as the call's record shows it now, signed with the endpoint's
 * current secrets and the same webhook-id; delivered letters are removed, the others stay. It
 * runs beside the server (it sends out of the partition's order: the receiver deduplicates by
 * webhook-id and may have later events of the call already). Exit 2: usage, 1: something stayed.
 */
import { createSystemClock } from "./adapters/clock/system-clock.ts";
import { createCassandraCallStore } from "./adapters/store/cassandra/cassandra-call-store.ts";
import { createSqliteCallStore } from "./adapters/store/sqlite-call-store.ts";
import { createHttpWebhookSender } from "./adapters/webhooks/http-webhook-sender.ts";
import type { LoggedCallEvent } from "./app/ports/call-event-log.ts";
import { loadConfig } from "./config.ts";
import { type CallEventKind, callEventKinds, eventPartitionOf } from "./domain/call-events.ts";
import { createWebhookState, webhookEndpoints } from "./webhook-stack.ts";

const usage = `usage: npm run webhooks -- dead-letters ENDPOINT
       npm run webhooks -- replay ENDPOINT [EVENT_ID...]`;

function exit(code: number, why: string): never {
  process.stderr.write(`${why}\n`);
  process.exit(code);
}

const [command, name, ...ids] = process.argv.slice(2);
if ((command !== "dead-letters" && command !== "replay") || !name) exit(2, usage);
const config = loadConfig();
const endpoint = webhookEndpoints(config).find((e) => e.name === name);
if (!endpoint) exit(2, `no webhook endpoint ${name} in the config`);
const state = createWebhookState(config);
const letters = await state.deadLetters(name, 10_000);
if (command === "dead-letters") {
  for (const l of letters) {
    const at = new Date(l.deadAtMs).toISOString();
    process.stdout.write(`${l.eventId}\tpartition ${l.partition}\t${l.attempts} attempt(s)\t${at}\t${l.lastError}\n`);
  }
  await state.close();
  process.exit(0);
}

const clock = createSystemClock();
// The store itself, not the server's outbox in front of it (the outbox file is the server's own).
const { kind, cassandra, sqlitePath } = config.store;
const store =
  kind === "cassandra" && cassandra
    ? createCassandraCallStore(cassandra, undefined, clock)
    : createSqliteCallStore(sqlitePath);
const sender = createHttpWebhookSender({
  clock,
  timeoutMs: config.webhooks.timeoutMs,
  userAgent: "calldrop-webhooks-replay",
});
const wanted = ids.length > 0 ? letters.filter((l) => ids.includes(l.eventId)) : letters;
let left = ids.filter((id) => !letters.some((l) => l.eventId === id)).length;
for (const id of ids) if (!letters.some((l) => l.eventId === id)) process.stderr.write(`${id}: no such dead letter\n`);
for (const letter of wanted) {
  const cut = letter.eventId.lastIndexOf(":");
  const callId = letter.eventId.slice(0, cut);
  const kind = letter.eventId.slice(cut + 1) as CallEventKind;
  const call = callEventKinds.includes(kind) ? await store.get(callId) : undefined;
  if (!call) {
    process.stderr.write(`${letter.eventId}: the call's record is gone; removed\n`);
    await state.removeDeadLetter(name, letter.eventId);
    continue;
  }
  const event: LoggedCallEvent = {
    partition: eventPartitionOf(callId),
    position: { seq: 0, eventId: letter.eventId },
    eventId: letter.eventId,
    kind,
    call,
  };
  const result = await sender.send(endpoint, event, new AbortController().signal);
  if (result.result === "delivered") {
    await state.removeDeadLetter(name, letter.eventId);
    process.stdout.write(`${letter.eventId}\treplayed\n`);
  } else {
    left++;
    process.stdout.write(`${letter.eventId}\tstill failing: ${result.error}\n`);
  }
}
await state.close();
// The call store was only read: exiting closes it (its checkpoint worker is unref'd and would not keep an await alive).
process.exit(left > 0 ? 1 : 0);
