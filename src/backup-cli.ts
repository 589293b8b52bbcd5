/**
 * `npm run backup` / `npm run restore`: a backup of the configured call store (docs/backup.md,
 * docs/spec.md §7 "Backups"), read from the same config as the server (CALLDROP_CONFIG, CALLDROP_*).
 *
 *   npm run backup -- --to backups/calldrop-2026-12-03.db     # sqlite: online, while the server serves
 *   npm run restore -- --from backups/calldrop-2026-12-03.db  # sqlite: with the server stopped
 *
 * With `store.kind` cassandra the file is a driver export of the keyspace (keyspace-export.ts).
 * Progress goes to stderr; a wrong argument or a failure is one line and a non-zero exit (2: usage,
 * 1: the backup or restore failed), never a stack trace.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { backupSqlite, defaultPagesPerStep, restoreSqlite } from "./adapters/sqlite/online-backup.ts";
import { createCassandraClient } from "./adapters/store/cassandra/cassandra-config.ts";
import { exportKeyspace, importKeyspace } from "./adapters/store/cassandra/keyspace-export.ts";
import { type Config, loadConfig } from "./config.ts";

const usage = `usage: npm run backup -- --to FILE [--db PATH] [--pages-per-step N]
       npm run restore -- --from FILE [--db PATH]

  --to FILE             write the backup here (overwritten)
  --from FILE           restore from this backup (sqlite: stop the server first)
  --db PATH             sqlite only: the database file (default: store.sqlitePath of the config)
  --pages-per-step N    sqlite only: pages copied per step of the online backup (default ${defaultPagesPerStep})
  -h, --help            print this help
The store (sqlite or cassandra) and its address come from the server's config.
`;

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
function exit(code: number, why: string): never {
  say(why);
  process.exit(code);
}
function usageError(why: string): never {
  exit(2, `${command}: ${why}\n${usage}`);
}

const command = process.argv[2];
if (command !== "backup" && command !== "restore") exit(2, `backup-cli: unknown command ${String(command)}\n${usage}`);

let values: { to?: string; from?: string; db?: string; "pages-per-step"?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      to: { type: "string" },
      from: { type: "string" },
      db: { type: "string" },
      "pages-per-step": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (err) {
  usageError(err instanceof Error ? err.message : String(err)); // unknown option, missing value
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const file = command === "backup" ? values.to : values.from;
if (!file) usageError(command === "backup" ? "--to FILE is required" : "--from FILE is required");
if (command === "backup" && values.from) usageError("--from is for restore");
if (command === "restore" && values.to) usageError("--to is for backup");
const pagesPerStep = Number(values["pages-per-step"] ?? defaultPagesPerStep);
if (!Number.isSafeInteger(pagesPerStep) || pagesPerStep < 1) usageError("--pages-per-step must be an integer ≥ 1");

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  exit(2, `${command}: ${err instanceof Error ? err.message : String(err)}`);
}
const path = resolve(file as string);
if (command === "backup" && !existsSync(dirname(path))) usageError(`directory ${dirname(path)} does not exist`);
if (command === "restore" && !existsSync(path)) usageError(`no backup at ${path}`);

const t0 = Date.now();
const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
try {
  const cassandra = config.store.kind === "cassandra" ? config.store.cassandra : undefined;
  if (cassandra) {
    if (values.db) usageError("--db is for the sqlite store; this config uses Cassandra");
    const client = createCassandraClient({
      ...cassandra,
      requestTimeoutMs: Math.max(cassandra.requestTimeoutMs, 30_000),
    });
    const progress = (rows: number, table: string) => say(`${command}: ${rows} rows${table ? ` (${table})` : ""}`);
    try {
      const rows =
        command === "backup"
          ? await exportKeyspace(client, cassandra.keyspace, path, progress)
          : await importKeyspace(client, cassandra.keyspace, path, progress);
      say(
        `${command}: keyspace ${cassandra.keyspace}, ${rows} rows ${command === "backup" ? "to" : "from"} ${path} in ${seconds()} s`,
      );
    } finally {
      await client.shutdown();
    }
  } else {
    const db = resolve(values.db ?? config.store.sqlitePath);
    if (db === path) usageError("the backup file cannot be the database itself");
    if (command === "restore" && existsSync(db) && statSync(db).isDirectory()) usageError(`${db} is a directory`);
    const onProgress = ({ totalPages, remainingPages }: { totalPages: number; remainingPages: number }) =>
      say(
        `${command}: ${Math.floor((100 * (totalPages - remainingPages)) / Math.max(totalPages, 1))}% (${totalPages - remainingPages}/${totalPages} pages)`,
      );
    const result =
      command === "backup"
        ? await backupSqlite(db, path, { pagesPerStep, onProgress })
        : await restoreSqlite(path, db, { onProgress });
    say(
      `${command}: ${result.pages} pages (schema v${result.schemaVersion}) ${command === "backup" ? `of ${db} to ${path}` : `from ${path} to ${db}`} in ${seconds()} s`,
    );
  }
} catch (err) {
  exit(1, `${command} failed: ${err instanceof Error ? err.message : String(err)}`);
}
process.exit(0);
