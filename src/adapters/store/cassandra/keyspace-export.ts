/**
 * A logical backup of the call-store keyspace through the driver (docs/spec.md §7 "Backups"): the
 * schema as the server describes it (`DESCRIBE KEYSPACE`), then every row of every table as CQL JSON,
 * one JSON document a line, with the remaining TTL of rows in expiring tables; a last line counts the
 * rows so a cut-off file is refused. Restore creates the keyspace from the saved schema when it is
 * missing (else requires the same schema version) and writes each row back with an idempotent
 * `INSERT … JSON … DEFAULT UNSET`, so it can be run again after a failure. The export is not one
 * snapshot: a row written during it may or may not be in it. Node-level snapshots (`nodetool
 * snapshot`) are the production backup; this serves where no JMX is reachable, and for moving data.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type cassandra from "cassandra-driver";
import { checkKeyspaceName, ddlTimeoutMs } from "./migrate.ts";

/** The first line of an export. */
interface Header {
  readonly format: "calldrop-cassandra-export";
  readonly formatVersion: 1;
  readonly keyspace: string;
  readonly schemaVersion: number;
  readonly exportedAtMs: number;
  /** `DESCRIBE KEYSPACE`: the keyspace, its types, then its tables. */
  readonly schema: readonly string[];
}

/** A row line: the table, the row as CQL JSON, and its remaining TTL in seconds when it expires. */
interface RowLine {
  readonly table: string;
  readonly json: string;
  readonly ttl?: number;
}

/** Rows done so far, after each page. */
export type ExportProgress = (rows: number, table: string) => void;

/** Thrown for a file that is not a complete export of a compatible keyspace. */
export class ExportFileError extends Error {}

const ttlPrefix = "calldrop_backup_ttl_";
const pageSize = 1000;
const writesInFlight = 64;

/** Writes every table of `keyspace` to `path`; returns the number of rows. */
export async function exportKeyspace(
  client: cassandra.Client,
  keyspace: string,
  path: string,
  onProgress: ExportProgress = () => {},
): Promise<number> {
  const ks = checkKeyspaceName(keyspace);
  const described = await client.execute(`DESCRIBE KEYSPACE ${ks}`, [], { prepare: false });
  const schema = described.rows.map((r) => String(r.create_statement));
  const header: Header = {
    format: "calldrop-cassandra-export",
    formatVersion: 1,
    keyspace: ks,
    schemaVersion: await schemaVersionOf(client, ks),
    exportedAtMs: Date.now(),
    schema,
  };
  const out = createWriteStream(path);
  const write = async (line: object) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, "drain");
  };
  let rows = 0;
  try {
    await write(header);
    for (const table of described.rows.filter((r) => r.type === "table").map((r) => String(r.name))) {
      const query = await selectAll(client, ks, table);
      let pageState: string | undefined;
      do {
        const page = await client.execute(query, [], { prepare: true, fetchSize: pageSize, pageState });
        for (const r of page.rows) {
          const { json, ttl } = splitTtl(String(r["[json]"]));
          await write(ttl === undefined ? { table, json } : { table, json, ttl });
        }
        rows += page.rows.length;
        onProgress(rows, table);
        pageState = page.pageState ?? undefined;
      } while (pageState);
    }
    await write({ end: true, rows });
  } finally {
    out.end();
    await once(out, "close");
  }
  return rows;
}

/** Restores an export of `keyspace` (and of no other) into it; returns the number of rows written. */
export async function importKeyspace(
  client: cassandra.Client,
  keyspace: string,
  path: string,
  onProgress: ExportProgress = () => {},
): Promise<number> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let header: Header | undefined;
  let rows = 0;
  let expected: number | undefined;
  const inFlight = new Set<Promise<unknown>>();
  for await (const text of lines) {
    const line = parseLine(text, path);
    if (!header) {
      header = checkHeader(line, path);
      if (header.keyspace !== keyspace) {
        throw new ExportFileError(`${path} is an export of keyspace ${header.keyspace}, not of ${keyspace}`);
      }
      await prepareKeyspace(client, header);
      continue;
    }
    if ("end" in line) {
      expected = Number(line.rows);
      break;
    }
    const { table, json, ttl } = line as unknown as RowLine;
    const cql = `INSERT INTO ${header.keyspace}.${checkKeyspaceName(table)} JSON ? DEFAULT UNSET${ttl ? " USING TTL ?" : ""}`;
    const write = client.execute(cql, ttl ? [json, ttl] : [json], { prepare: true });
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write)).catch(() => {});
    if (inFlight.size >= writesInFlight) await Promise.race(inFlight);
    rows++;
    if (rows % pageSize === 0) onProgress(rows, table);
  }
  await Promise.all(inFlight);
  if (!header) throw new ExportFileError(`${path} is empty`);
  if (expected !== rows) throw new ExportFileError(`${path} is cut off: ${rows} rows read, no end line`);
  onProgress(rows, "");
  return rows;
}

/** `SELECT JSON` of every column, and the TTL of each regular one (collections have none). */
async function selectAll(client: cassandra.Client, ks: string, table: string): Promise<string> {
  const columns = await client.execute(
    "SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
    [ks, table],
    { prepare: true },
  );
  const names = columns.rows.map((c) => String(c.column_name));
  const ttls = columns.rows
    .filter((c) => c.kind === "regular" && !/^(list|set|map)</.test(String(c.type)))
    .map((c, i) => `ttl(${String(c.column_name)}) AS ${ttlPrefix}${i}`);
  return `SELECT JSON ${[...names, ...ttls].join(", ")} FROM ${ks}.${table}`;
}

// ES2025 JSON.rawJSON (Node >= 21), not yet in TypeScript's lib.
const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/**
 * A row's JSON without its null columns (a restored row gets no tombstones) and without the TTL
 * columns, whose largest value is the row's remaining TTL. Integers beyond 2^53 (bigint, varint)
 * keep their digits.
 */
function splitTtl(text: string): { json: string; ttl?: number } {
  const row = JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && Number.isInteger(value) && context?.source
      ? rawJSON(context.source)
      : value,
  ) as Record<string, unknown>;
  let ttl: number | undefined;
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(ttlPrefix) && typeof value === "number") ttl = Math.max(ttl ?? 0, value);
    if (key.startsWith(ttlPrefix) || value === null) delete row[key];
  }
  return ttl === undefined ? { json: JSON.stringify(row) } : { json: JSON.stringify(row), ttl };
}

async function schemaVersionOf(client: cassandra.Client, ks: string): Promise<number> {
  const applied = await client.execute(`SELECT version FROM ${ks}.schema_migrations`, [], { prepare: false });
  return Math.max(0, ...applied.rows.map((r) => Number(r.version)));
}

function parseLine(text: string, path: string): Record<string, unknown> {
  try {
    const line = JSON.parse(text) as unknown;
    if (typeof line === "object" && line !== null && !Array.isArray(line)) return line as Record<string, unknown>;
  } catch {}
  throw new ExportFileError(`${path} is not a CallDrop Cassandra export (a line is not a JSON object)`);
}

function checkHeader(line: Record<string, unknown>, path: string): Header {
  if (line.format !== "calldrop-cassandra-export" || line.formatVersion !== 1) {
    throw new ExportFileError(`${path} is not a CallDrop Cassandra export (format ${String(line.format)})`);
  }
  const header = line as unknown as Header;
  checkKeyspaceName(header.keyspace);
  return header;
}

/** Creates the keyspace from the saved schema when it is missing; else its schema version must match. */
async function prepareKeyspace(client: cassandra.Client, header: Header): Promise<void> {
  const ks = header.keyspace;
  const found = await client.execute(
    "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
    [ks],
    {
      prepare: true,
    },
  );
  if (found.rowLength === 0) {
    for (const statement of header.schema)
      await client.execute(statement, [], { prepare: false, readTimeout: ddlTimeoutMs });
    return;
  }
  const version = await schemaVersionOf(client, ks);
  if (version !== header.schemaVersion) {
    throw new ExportFileError(
      `keyspace ${ks} has schema v${version}, the export v${header.schemaVersion}: restore into a keyspace of the same version (or drop it)`,
    );
  }
}
