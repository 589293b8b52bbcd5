/** The Digests port on node:crypto. */
import { createHash, createHmac } from "node:crypto";
import type { Digests } from "../../app/ports/digests.ts";

/** The production digests. */
export const nodeDigests: Digests = {
  sha1Hex: (text) => createHash("sha1").update(text).digest("hex"),
  sha256Base64url: (text) => createHash("sha256").update(text).digest("base64url"),
  hmacSha1Base64: (key, text) => createHmac("sha1", key).update(text).digest("base64"),
};
