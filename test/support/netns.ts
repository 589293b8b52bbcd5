/**
 * Runs a browser scenario script inside a private network namespace (`unshare -n`: only
 * `lo`, so `tc` on loopback shapes nothing else on the machine) and returns the JSON it
 * prints on its `RESULT <json>` line. Needs root (as `npm test` runs here).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { chromiumPath } from "./browser.ts";

const root = join(import.meta.dirname, "../..");

/** Runs `script` (relative to the repo root) in a fresh network namespace; resolves with its result. */
export function runInNetns<T>(script: string): Promise<T> {
  chromiumPath(); // fails clearly outside `npm test`
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["-n", join(root, "node_modules/.bin/node"), script], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line)
        return reject(new Error(`${script} exited ${code} without a result (needs root for unshare -n and tc)`));
      resolve(JSON.parse(line.slice("RESULT ".length)) as T);
    });
  });
}
