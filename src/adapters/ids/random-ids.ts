/** The Ids port on UUIDv7 (call ids), UUIDv4 (session ids) and the system's secure random source. */
import { randomBytes, randomUUID } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import type { Ids } from "../../app/ports/ids.ts";

/** Creates the production id source. */
export function createRandomIds(): Ids {
  return {
    callId: () => uuidv7(),
    sessionId: () => randomUUID(),
    secret: () => randomBytes(24).toString("base64url"),
  };
}
