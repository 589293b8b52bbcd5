/** The CallStore contract against the embedded node:sqlite store (in memory). */
import { callStoreContract } from "./call-store.contract.ts";
import { createSqliteCallStore } from "./sqlite-call-store.ts";

callStoreContract("sqlite", async () => createSqliteCallStore(":memory:"));
