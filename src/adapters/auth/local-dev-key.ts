/**
 * The HMAC key local mode signs its dev tokens with, kept in the data directory
 * (beside the embedded store) so a restart does not sign everybody out. Created
 * once with owner-only permissions (0600); production never uses it.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const MIN_KEY_CHARS = 32;

/**
 * The key stored at `path`, created (random, 256 bits) when the file is missing.
 * Throws when the file exists but holds no usable key, rather than replacing it.
 */
export function loadLocalDevKey(path: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fresh = randomBytes(32).toString("base64url");
  try {
    // "wx": of two processes starting at once, one creates the file and both read it.
    writeFileSync(path, `${fresh}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  chmodSync(path, 0o600);
  const key = readFileSync(path, "utf8").trim();
  if (key.length < MIN_KEY_CHARS) {
    throw new Error(
      `local dev key file ${path} holds no key of ${MIN_KEY_CHARS}+ characters: remove it to make a new one`,
    );
  }
  return key;
}
