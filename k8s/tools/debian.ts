/**
 * Debian-packaged tools the k8s checks run (promtool, coturn's turnserver), provisioned the
 * way the repo provisions engines: used from PATH when present, otherwise fetched with apt.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../../scripts/cache-dir.ts";

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error?.message ?? ""}` };
}

/** Absolute path of `binary` on PATH, or undefined. */
export function which(binary: string): string | undefined {
  const r = run("sh", ["-c", `command -v ${binary}`]);
  return r.ok ? r.out.trim() : undefined;
}

/**
 * Runs an apt-get command, refreshing the package lists once if it fails, and waiting out
 * another apt process's lock (another test file may be provisioning at the same time).
 */
function aptGet(args: string[], cwd?: string): void {
  let r = run("apt-get", args, cwd);
  for (let attempt = 0; !r.ok && attempt < 6; attempt++) {
    if (/Could not get lock|Unable to lock/i.test(r.out)) run("sleep", ["5"]);
    else if (attempt === 0) run("apt-get", ["update", "-qq"]);
    else break;
    r = run("apt-get", args, cwd);
  }
  if (!r.ok) throw new Error(`apt-get ${args.join(" ")} failed:\n${r.out}`);
}

/**
 * A binary from a Debian package *without installing the package*: the .deb is downloaded
 * and unpacked under the tooling cache, `debian/<pkg>/` (scripts/cache-dir.ts; no services
 * started, nothing in /usr touched).
 * Suits self-contained binaries such as promtool (static Go).
 */
export function debianBinaryUnpacked(pkg: string, binaryPath: string, log: (l: string) => void): string {
  const onPath = which(binaryPath.split("/").pop() ?? binaryPath);
  if (onPath) return onPath;
  const dest = cacheDir("debian", pkg);
  const bin = join(dest, binaryPath);
  if (existsSync(bin)) return bin;
  log(`fetching ${pkg} from Debian to unpack ${binaryPath}`);
  mkdirSync(cacheDir("debian"), { recursive: true });
  const tmp = mkdtempSync(cacheDir("debian", `.${pkg}-`));
  try {
    aptGet(["download", "-qq", pkg], tmp);
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    const x = run("dpkg-deb", ["-x", join(tmp, deb), join(tmp, "root")]);
    if (!x.ok) throw new Error(`dpkg-deb -x failed: ${x.out}`);
    // Atomic publish: a concurrent test process may have won the race, which is fine.
    if (!existsSync(dest)) renameSync(join(tmp, "root"), dest);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`${pkg} has no ${binaryPath}`);
  return bin;
}

/** A binary from an installed Debian package, installing the package (as root) if missing. */
export function debianBinaryInstalled(pkg: string, binary: string, log: (l: string) => void): string {
  const found = which(binary);
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`${binary} missing: install it with \`apt-get install ${pkg}\``);
  log(`installing ${pkg} from Debian`);
  aptGet(["install", "-y", "-qq", "--no-install-recommends", pkg]);
  const installed = which(binary);
  if (!installed) throw new Error(`${pkg} installed but ${binary} is not on PATH`);
  return installed;
}
