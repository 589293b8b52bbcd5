/**
 * Installs a Debian package when its binary is missing (test engines come from
 * Debian, docs/spec.md §13). Tries `apt-get install` first and refreshes the package
 * lists with `apt-get update` only when that fails (a fresh machine has none).
 * Installing needs root; as another user a missing binary fails with the command to run.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Ensures `binary` exists, installing `pkg` with apt-get if needed; returns the binary path. */
export function ensureDebianPackage(pkg: string, binary: string, log: (line: string) => void): string {
  if (existsSync(binary)) return binary;
  if (process.getuid?.() !== 0) {
    throw new Error(`${binary} missing and not root to install it: run \`sudo apt-get install ${pkg}\``);
  }
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

/** The path of `command` on PATH; when there is none, installs `pkg` (which puts it in /usr/bin). */
export function ensureCommand(command: string, pkg: string, log: (line: string) => void): string {
  const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  return ensureDebianPackage(pkg, `/usr/bin/${command}`, log);
}
