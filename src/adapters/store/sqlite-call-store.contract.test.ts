/** The CallStore and CallEventLog contracts against the embedded node:sqlite store (in memory). */
import { callEventLogContract } from "./call-event-log.contract.ts";
import { callStoreContract } from "./call-store.contract.ts";
import { createSqliteCallStore } from "./sqlite-call-store.ts";

callStoreContract("sqlite", async () => createSqliteCallStore(":memory:"));
callEventLogContract("sqlite", async () => createSqliteCallStore(":memory:"));
