/**
 * Installs a Debian package when its binary is missing (test engines come from
 * Debian, PRODUCT.md §13). Tries `apt-get install` first and refreshes the package
 * lists with `apt-get update` only when that fails (a fresh machine has none).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Ensures `binary` exists, installing `pkg` with apt-get if needed; returns the binary path. */
export function ensureDebianPackage(pkg: string, binary: string, log: (line: string) => void): string {
  if (existsSync(binary)) return binary;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], { env, encoding: "utf8" });
  log(`${binary} missing: apt-get install ${pkg}`);
  let r = install();
  if (r.status !== 0) {
    log("install failed; apt-get update and retry");
    spawnSync("apt-get", ["update"], { env, stdio: "ignore" });
    r = install();
  }
  if (r.status !== 0 || !existsSync(binary)) {
    throw new Error(`could not install ${pkg} (exit ${r.status}): ${(r.stderr ?? "").slice(-2000)}`);
  }
  return binary;
}
