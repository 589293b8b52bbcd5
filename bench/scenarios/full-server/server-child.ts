/**
 * Child process: the real CallDrop server, built by the same composition root as `npm start`
 * (`createApp(loadConfig())` of src/), on 127.0.0.1 and a free port, with an embedded sqlite
 * store in a fresh temp dir. The harness sends `start` with config overrides (the same tree
 * CALLDROP_* variables set); the child answers `listening` and, like the relay servers, `gc`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../../src/compose.ts";
import { loadConfig } from "../../../src/config.ts";
import { createParentLink } from "../../lib/child-side.ts";
import type { GcDoneMessage, ListeningMessage } from "../relay-transport/protocol.ts";
import { benchJwtSecret } from "./tokens.ts";

const parent = createParentLink(20 * 60_000);
const dir = mkdtempSync(join(tmpdir(), "calldrop-bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

parent.on("gc", () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const reply: GcDoneMessage = { type: "gc-done", heapUsedBytes: m.heapUsed, externalBytes: m.external };
  parent.send(reply);
});

parent.on("start", (message) => {
  const defaults: Tree = {
    mode: "production",
    server: { host: "127.0.0.1", port: 0, drainTimeoutMs: 1000 },
    auth: { hmacSecret: benchJwtSecret },
    store: { sqlitePath: join(dir, "calls.db") },
    log: { level: "warn" },
  };
  // Environment CALLDROP_* variables still apply underneath, as with `npm start`.
  createApp(loadConfig(process.env, merge(defaults, message.overrides as Tree)))
    .then((app) => app.start())
    .then(({ port }) => {
      const listening: ListeningMessage = { type: "listening", port };
      parent.send(listening);
    })
    .catch((e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    });
});

type Tree = Record<string, unknown>;

/** Deep merge of plain config trees (b wins). */
function merge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    const prev = out[k];
    const objects = [prev, v].every((x) => typeof x === "object" && x !== null && !Array.isArray(x));
    out[k] = objects ? merge(prev as Tree, v as Tree) : v;
  }
  return out;
}
