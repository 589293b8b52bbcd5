/**
 * Completes package-lock.json with the other platforms' binary packages.
 *
 * Why: the npm registry reachable here serves only this platform's binaries
 * (linux-x64-glibc); other platforms' optional packages answer 404, so npm cannot
 * record them, and `npm ci` then refuses the lockfile as out of sync. For each
 * optional dependency missing from the lock we add an entry tagged with its
 * os/cpu/libc (read from its name), which npm skips on this platform.
 * Run after any `npm install`: `node scripts/lock-platforms.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Entry = { version?: string; dev?: boolean; optionalDependencies?: Record<string, string>; [k: string]: unknown };
const file = join(import.meta.dirname, "..", "package-lock.json");
const lock = JSON.parse(readFileSync(file, "utf8")) as { packages: Record<string, Entry> };

function platformOf(name: string): Record<string, string[]> {
  const os = ["darwin", "win32", "android", "freebsd", "openbsd", "sunos", "aix", "linux"].find((o) =>
    name.includes(o),
  );
  const cpu = name.match(/(arm64|aarch64|armv7|arm|x64|ia32|ppc64|s390x|riscv64|loong64)/)?.[1];
  const tags: Record<string, string[]> = {};
  if (os) tags.os = [os];
  if (cpu) tags.cpu = [cpu === "aarch64" ? "arm64" : cpu === "armv7" ? "arm" : cpu];
  if (name.includes("musl")) tags.libc = ["musl"];
  return tags;
}

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key] || lock.packages[`${path}/${key}`]) continue;
    lock.packages[key] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platformOf(dep) };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} platform entries`);
