/**
 * Runs a scenario script in a process of its own and returns the JSON it prints on its
 * `RESULT <json>` line. For scenarios that need a private network namespace (`unshare -n`:
 * only `lo`, so `tc` on loopback shapes nothing else on the machine; needs root, as `npm test`
 * runs here), and for scenarios whose libraries may leave handles behind (the script ends
 * itself, so a leaked timer cannot keep a test file's process alive).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");
const node = join(root, "node_modules/.bin/node");

/** Runs `script` (relative to the repo root); resolves with its result. */
export function runScenarioScript<T>(script: string, options: { privateNetwork?: boolean } = {}): Promise<T> {
  const [cmd, args] = options.privateNetwork ? ["unshare", ["-n", node, script]] : [node, [script]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) {
        const why = options.privateNetwork ? " (needs root for unshare -n and tc)" : "";
        return reject(new Error(`${script} exited ${code} without a result${why}`));
      }
      resolve(JSON.parse(line.slice("RESULT ".length)) as T);
    });
  });
}
