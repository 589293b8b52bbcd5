/**
 * Configuration: one typed tree (docs/style.md 11). Defaults, then a JSON file named by
 * CALLDROP_CONFIG, then environment variables CALLDROP_<SECTION>__<KEY> (e.g.
 * CALLDROP_CALLS__RING_TIMEOUT_MS=5000). Unknown keys are rejected; everything is
 * validated at boot. Durations carry their unit in the name.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { cassandraConfigSchema } from "./adapters/store/cassandra/cassandra-config-schema.ts";
import { validateIceConfig } from "./app/ice-servers.ts";
import { webhookSecretKey } from "./codec/webhook-signature.ts";
import { callEventKinds } from "./domain/call-events.ts";
import { outcomeValues } from "./domain/call-types.ts";

const ms = z.number().int().positive();

/** A web origin: scheme, host and optional port, nothing else (as browsers send it in `Origin`). */
const origin = z.string().refine((o) => URL.canParse(o) && new URL(o).origin === o, {
  error: "must be an origin like https://app.example.com (scheme://host[:port], no path or trailing slash)",
});

/** An https URL (push services are only ever reached over TLS). */
const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https URL" });
/** A Standard Webhooks secret (codec/webhook-signature.ts), refused with the reason. */
const webhookSecret = z.string().superRefine((secret, ctx) => {
  try {
    webhookSecretKey(secret);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const schema = z.strictObject({
  /** local: dev token issuer on, friendly defaults. production: real keys required. */
  mode: z.enum(["local", "production"]).default("local"),
  server: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Static web client (built by `npm run build:web`). */
      staticDir: z.string().default("web/dist"),
      /** Largest protobuf message accepted; larger gets ResourceExhausted. */
      maxMessageBytes: z
        .number()
        .int()
        .positive()
        .default(256 * 1024),
      /**
       * Who serves HTTP/2 (gRPC) connections: grpc-js (the measured faster path for mobile
       * bidi streams, gRPC only) or connect-node (gRPC, gRPC-Web and Connect). HTTP/1.1 is
       * always connect-node (Connect and gRPC-Web for browsers).
       */
      http2Engine: z.enum(["grpc-js", "connect-node"]).default("grpc-js"),
      /** Streams are closed after this age so clients reconnect (and rebalance) elsewhere. */
      maxConnectionAgeMs: ms.default(30 * 60_000),
      /** On SIGTERM: how long to wait for streams to move before exiting. */
      drainTimeoutMs: ms.default(10_000),
      /**
       * Web origins whose pages may call the API (CORS), e.g. the messaging app's web client on
       * ["https://chat.example.com"]. Empty (the default): same origin only.
       */
      corsAllowedOrigins: z.array(origin).default([]),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** HS256 secret (at least 32 bytes) — local mode generates one when absent. */
      hmacSecret: z.string().min(32).optional(),
      /** SPKI PEM of the messaging app's signing key (RS256/ES256/EdDSA). */
      publicKeyPem: z.string().optional(),
      /** JWKS URL of the messaging app's issuer. */
      jwksUrl: z.url().optional(),
      /** A JWKS JSON file (e.g. mounted from a ConfigMap), read at boot. */
      jwksFile: z.string().optional(),
      /** A fetched JWKS (URL or file) is used this long, then fetched again: a removed key verifies up to this long. */
      jwksMaxAgeMs: z.number().int().min(0).default(600_000),
      /** A token with an unknown `kid` refetches the JWKS at most this often (a newly published key). */
      jwksRefetchCooldownMs: z.number().int().min(0).default(30_000),
      issuer: z.string().default("calldrop-dev"),
      audience: z.string().default("calldrop-calling"),
      /** Lifetime of dev tokens (local mode only). */
      devTokenTtlS: z.number().int().positive().default(3600),
    })
    .prefault({}),
  calls: z
    .strictObject({
      ringTimeoutMs: ms.default(30_000),
      setupTimeoutMs: ms.default(30_000),
      maxCandidatesPerCall: z.number().int().positive().default(200),
      /** Bitrate cap hinted to clients whose media is relayed (keep under coturn's max-bps); 0 = none. */
      relayMaxBitrateBps: z.number().int().min(0).default(1_500_000),
      lingerMs: ms.default(60_000),
      maxSamplesPerCall: z.number().int().positive().default(5000),
      /**
       * Quality samples are written per call once a window is this old (docs/spec.md §7 "Sample
       * windows"): what a node's death can lose. 0 writes each report at once.
       */
      sampleWindowMs: z.number().int().min(0).default(30_000),
      /** Samples at which a window is written early (bounds a call's buffer). */
      maxSamplesPerWindow: z.number().int().positive().default(64),
      /** Users one user may block (docs/spec.md §14 "Blocking"). */
      maxBlockedPerUser: z.number().int().positive().default(1000),
      /** Share of answered calls whose participants are asked for a rating, 0–1 (docs/spec.md §15). */
      ratingSampleRate: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  sessions: z
    .strictObject({
      resumeGraceMs: ms.default(30_000),
      bufferSize: z.number().int().positive().default(512),
      commandTtlMs: ms.default(5 * 60_000),
      /** Events queued for a slow stream before it is closed (the session stays resumable). */
      maxQueuedEvents: z.number().int().positive().default(4096),
    })
    .prefault({}),
  limits: z
    .strictObject({
      callStartsBurst: z.number().int().positive().default(5),
      callStartsPerSecond: z.number().positive().default(0.2),
      messagesBurst: z.number().int().positive().default(300),
      messagesPerSecond: z.number().positive().default(100),
    })
    .prefault({}),
  store: z
    .strictObject({
      /** sqlite: the embedded single-node store. cassandra: the production cluster (see k8s/cassandra). */
      kind: z.enum(["sqlite", "cassandra"]).default("sqlite"),
      sqlitePath: z.string().default(".data/calldrop.db"),
      cassandra: cassandraConfigSchema.optional(),
      /** Durable queue of writes made while Cassandra is unreachable (on a volume that outlives the pod). */
      outboxPath: z.string().default(".data/call-store-outbox.db"),
    })
    .prefault({}),
  ice: z
    .strictObject({
      stunUrls: z.array(z.string()).default([]),
      turnUrls: z.array(z.string()).default([]),
      /** coturn static-auth-secret (use-auth-secret). */
      turnSecret: z.string().optional(),
      credentialTtlS: z.number().int().positive().default(3600),
      /** Every client relay-only (privacy, or exercising the relay path). */
      forceRelay: z.boolean().default(false),
      /**
       * coturn's per-session cap, bytes/s (`max-bps` in k8s/base/coturn/turnserver.conf, which
       * k8s/coturn.test.ts keeps equal to this default); 0 = none. calls.relayMaxBitrateBps must
       * stay under it, else coturn drops what the hint lets clients send (docs/spec.md §5).
       */
      relayMaxBps: z.number().int().min(0).default(500_000),
    })
    .prefault({}),
  notifications: z
    .strictObject({
      /** VAPID keys (`npx web-push generate-vapid-keys`); the private key comes from a secret. */
      webPush: z.strictObject({ subject: z.string(), publicKey: z.string(), privateKey: z.string() }).optional(),
      /** The mobile push gateway (FCM/APNs) webhook; the secret signs each request. */
      gateway: z.strictObject({ url: z.url(), secret: z.string().min(16) }).optional(),
      /**
       * Direct APNs delivery (docs/spec.md §8 "Mobile push contract"); absent = iOS tokens go to the
       * gateway. Token authentication with an auth key (.p8) from the Apple developer account.
       */
      apns: z
        .strictObject({
          /** The auth key's 10-character key id. */
          keyId: z.string().regex(/^[A-Z0-9]{10}$/, { error: "must be the 10-character key id of the APNs auth key" }),
          /** The 10-character team id. */
          teamId: z.string().regex(/^[A-Z0-9]{10}$/, { error: "must be the 10-character Apple team id" }),
          /** The .p8 auth key file (PKCS#8 PEM, a secret: mount it, never commit it). */
          privateKeyPath: z.string().min(1),
          /** The app's bundle id; VoIP pushes go to `<bundleId>.voip`. */
          bundleId: z
            .string()
            .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, { error: "must be a bundle id like com.example.app" }),
          /** https://api.push.apple.com, or https://api.sandbox.push.apple.com for development builds. */
          baseUrl: httpsUrl.default("https://api.push.apple.com"),
          /** How long one provider token is used (Apple: renew no more often than every 20 min, within 60). */
          tokenRefreshMs: z
            .number()
            .int()
            .min(20 * 60_000, { error: "must be at least 20 minutes (Apple refuses faster renewal)" })
            .max(60 * 60_000, { error: "must be at most 60 minutes (Apple refuses older tokens)" })
            .default(40 * 60_000),
        })
        .optional(),
      /** Direct FCM HTTP v1 delivery; absent = Android tokens go to the gateway. */
      fcm: z
        .strictObject({
          /** The service-account key file (JSON from the Firebase console, a secret). */
          serviceAccountPath: z.string().min(1),
          baseUrl: httpsUrl.default("https://fcm.googleapis.com"),
        })
        .optional(),
      sendTimeoutMs: ms.default(10_000),
      stopRingingTtlMs: ms.default(60_000),
      missedCallTtlMs: ms.default(86_400_000),
      maxDevicesPerUser: z.number().int().positive().default(20),
      /** Accept http:// and private-address push endpoints (local testing only). */
      allowInsecureEndpoints: z.boolean().default(false),
    })
    .prefault({}),
  /**
   * Cluster mode (docs/spec.md §10): present = this node joins the cluster registered in
   * etcd, and talks to the other nodes over the internal relay port. Absent = a single
   * node (in-process presence, no etcd).
   */
  cluster: z
    .strictObject({
      /** etcd client endpoints, host:port, of the primary cluster (call directory; default presence shard). */
      etcdEndpoints: z.array(z.string().min(1)).min(1),
      /**
       * The etcd clusters presence is spread over by a hash of the user id (docs/cluster.md "Sharded
       * presence"); shard 0 also holds the node keys. Every node must list the same shards in the same
       * order (checked at startup). Default: one shard, `etcdEndpoints`.
       */
      presenceShards: z
        .array(z.strictObject({ endpoints: z.array(z.string().min(1)).min(1) }))
        .min(1)
        .max(16)
        .superRefine((shards, ctx) => {
          const seen = new Map<string, number>();
          shards.forEach(({ endpoints }, i) => {
            for (const endpoint of endpoints) {
              const first = seen.get(endpoint);
              if (first !== undefined) {
                ctx.addIssue({
                  code: "custom",
                  path: [i, "endpoints"],
                  message: `${endpoint} is also in shard ${first}: each presence shard is its own etcd cluster`,
                });
              }
              seen.set(endpoint, first ?? i);
            }
          });
        })
        .optional(),
      /** Name of this node (e.g. the pod name); a per-process suffix makes the node id unique. Default: hostname. */
      nodeName: z.string().min(1).optional(),
      /** Interface of the internal relay listener (node-to-node only; never expose it to clients). */
      internalHost: z.string().default("127.0.0.1"),
      /** Port of the internal relay listener; 0 picks a free one. */
      internalPort: z.number().int().min(0).max(65535).default(8081),
      /** The host other nodes reach this node's relay listener at. Default: internalHost. */
      advertiseHost: z.string().optional(),
      /** Shared secret authenticating node-to-node streams (at least 16 bytes; from a secret, never the repo). */
      relaySecret: z.string().min(16),
      /**
       * Also accepted from other nodes, never signed with: during a rotation the next secret
       * (before nodes switch to it), then the previous one (docs/key-rotation.md).
       */
      relayAcceptedSecrets: z.array(z.string().min(16)).default([]),
      /** Lease TTL: how long after a node dies its devices and calls are handed to the others. */
      leaseTtlS: z.number().int().min(1).default(10),
      /** etcd key prefix of this cluster's presence (the call directory uses `<prefix without />-calls/`). */
      keyPrefix: z.string().default("/calldrop/"),
      /**
       * Where the cluster-wide call directory (busy/glare claims, call owners) lives: etcd, or
       * the embedded store's sqlite file (only for nodes sharing one machine, e.g. tests).
       */
      callDirectory: z.enum(["etcd", "sqlite"]).default("etcd"),
      /** How long a forwarded command waits for the node running the call. */
      forwardTimeoutMs: ms.default(10_000),
      /** How long a resume waits for the node holding the session to hand it over. */
      handoffTimeoutMs: ms.default(3_000),
    })
    .optional(),
  /** The call event stream to other backends (docs/spec.md §9 "Call events"). */
  events: z
    .strictObject({
      /** Consumer groups a CallEventsService.Subscribe may name (also the metrics' group label values). */
      consumerGroups: z
        .array(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/))
        .min(1)
        .default(["default"]),
      /** How often an idle stream reads the event log again. */
      pollIntervalMs: ms.default(250),
      /** An idle stream sends a heartbeat with its cursor this often. */
      heartbeatIntervalMs: ms.default(10_000),
      /** Events read from one partition at a time. */
      pageSize: z.number().int().min(1).max(1000).default(200),
    })
    .prefault({}),
  /** Signed webhooks of the call events (docs/spec.md §9 "Webhooks"). */
  webhooks: z
    .strictObject({
      endpoints: z
        .array(
          z.strictObject({
            /** Names the endpoint in its stored cursors, logs and metrics (keep it when the URL changes). */
            name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, {
              error: "must be 1–64 of a-z, 0-9, _ and -, starting with a letter",
            }),
            url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
            /** `whsec_` + base64 of ≥ 24 random bytes; two while rotating (requests carry both signatures). */
            secrets: z.array(webhookSecret).min(1).max(2),
            /** Only these kinds (default: all). */
            kinds: z.array(z.enum(callEventKinds)).default([]),
            /** Only `ended` events with these outcomes (with no kinds: only those `ended` events). */
            outcomes: z.array(z.enum(outcomeValues)).default([]),
          }),
        )
        .default([])
        .superRefine((endpoints, ctx) => {
          const seen = new Set<string>();
          endpoints.forEach(({ name }, i) => {
            if (seen.has(name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `${name} is used twice` });
            seen.add(name);
          });
        }),
      /** Attempts per event, the first included, before it is dead-lettered. */
      maxAttempts: z.number().int().min(1).max(100).default(12),
      /** The first retry waits up to this long; each next one twice as long (jittered over its upper half). */
      initialBackoffMs: ms.default(1_000),
      maxBackoffMs: ms.default(600_000),
      /** An attempt without an answer by then counts as failed (and is retried). */
      timeoutMs: ms.default(15_000),
      /** How often an idle partition's worker reads the event log again. */
      pollIntervalMs: ms.default(500),
      /** How often a node checks which partitions it delivers (cluster: its claims in etcd). */
      claimCheckIntervalMs: ms.default(1_000),
      /** Accept http:// endpoint URLs in production mode (local mode always does). */
      allowInsecureUrls: z.boolean().default(false),
    })
    .prefault({}),
  /** Takeover of calls whose node died (single node too: calls that were ringing when it stopped). */
  takeover: z
    .strictObject({
      /** How often the store is swept for ringing calls past their deadline that no live node runs. */
      sweepIntervalMs: ms.default(5_000),
      /** How far past its deadline a ringing call must be before the sweep takes it over. */
      overdueGraceMs: ms.default(2_000),
      /** After a node left: when the survivors take whatever of its calls is still unclaimed. */
      secondPassMs: ms.default(2_000),
      /** How often all live calls are checked for an owner that is gone without being seen leaving. */
      orphanScanIntervalMs: ms.default(60_000),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(["trace", "debug", "info", "warn", "error", "silent"]).default("info") })
    .prefault({}),
});

/** The validated configuration tree. */
export type Config = z.infer<typeof schema>;

/** Builds the config from defaults, the optional file and `env`; throws a readable error when invalid. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: object = {}): Config {
  const file = env.CALLDROP_CONFIG ? (JSON.parse(readFileSync(env.CALLDROP_CONFIG, "utf8")) as object) : {};
  const merged = merge(merge(file, fromEnv(env)), overrides);
  const parsed = schema.safeParse(merged);
  if (!parsed.success) throw new Error(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  const config = parsed.data;
  if (
    config.mode === "production" &&
    !config.auth.hmacSecret &&
    !config.auth.publicKeyPem &&
    !config.auth.jwksUrl &&
    !config.auth.jwksFile
  ) {
    throw new Error(
      "invalid configuration: production mode needs auth.hmacSecret, auth.publicKeyPem, auth.jwksUrl or auth.jwksFile",
    );
  }
  if (config.store.kind === "cassandra" && !config.store.cassandra) {
    throw new Error("invalid configuration: store.kind cassandra needs store.cassandra");
  }
  if (config.cluster?.callDirectory === "sqlite" && config.store.kind !== "sqlite") {
    throw new Error("invalid configuration: cluster.callDirectory sqlite needs store.kind sqlite");
  }
  const insecure = config.webhooks.endpoints.find((e) => e.url.startsWith("http:"));
  if (insecure && config.mode === "production" && !config.webhooks.allowInsecureUrls) {
    throw new Error(
      `invalid configuration: webhooks.endpoints ${insecure.name} has an http:// URL; use https (or set webhooks.allowInsecureUrls)`,
    );
  }
  if (config.webhooks.initialBackoffMs > config.webhooks.maxBackoffMs) {
    throw new Error("invalid configuration: webhooks.initialBackoffMs exceeds webhooks.maxBackoffMs");
  }
  const iceProblems = validateIceConfig(config.ice);
  if (iceProblems.length > 0) throw new Error(`invalid configuration: ${iceProblems.join("; ")}`);
  if (config.ice.relayMaxBps > 0 && config.calls.relayMaxBitrateBps > config.ice.relayMaxBps * 8) {
    throw new Error(
      `invalid configuration: calls.relayMaxBitrateBps (${config.calls.relayMaxBitrateBps} bit/s) must not exceed coturn's cap ice.relayMaxBps (${config.ice.relayMaxBps} bytes/s = ${config.ice.relayMaxBps * 8} bit/s)`,
    );
  }
  return config;
}

function fromEnv(env: NodeJS.ProcessEnv): object {
  const tree: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("CALLDROP_") || raw === undefined || name === "CALLDROP_CONFIG") continue;
    if (name.startsWith("CALLDROP_TEST_")) continue;
    const path = name
      .slice("CALLDROP_".length)
      .split("__")
      .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    let node = tree;
    for (const key of path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1) as string] = parseValue(raw);
  }
  return tree;
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function merge(a: object, b: object): object {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const bothObjects = isPlainObject(prev) && isPlainObject(v);
    out[k] = bothObjects ? merge(prev, v) : v;
  }
  return out;
}

function isPlainObject(x: unknown): x is object {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
