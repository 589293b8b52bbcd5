/**
 * `npm test`: static checks, then every test file under src/, test/ and k8s/ with the
 * real engines of scripts/services/ started once for the whole run and stopped after.
 */
import { spawnSync } from "node:child_process";
import { globSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isTestService, type RunningService } from "./services/service.ts";

const root = join(import.meta.dirname, "..");
const log = (line: string) => process.stdout.write(`[test] ${line}\n`);

function run(title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  log(`${title}: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    log(`${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

run("generated code is fresh", "node", ["scripts/check-gen.ts"]);
run("buf lint", "npx", ["buf", "lint"]);
if (spawnSync("git", ["rev-parse", "--verify", "-q", "HEAD~1"], { cwd: root }).status === 0) {
  // Wire compatibility with the previous commit: clients built from older protos keep working.
  run("buf breaking", "npx", ["buf", "breaking", "--against", ".git#ref=HEAD~1"]);
}
run("typecheck", "npx", ["tsc", "--noEmit"]);
run("lint", "npx", ["biome", "check", "."]);

const started: RunningService[] = [];
const env: NodeJS.ProcessEnv = { ...process.env };
let status = 1;
try {
  const dir = join(root, "scripts/services");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "service.ts")
    .sort()) {
    const mod: { default?: unknown } = await import(join(dir, file));
    if (!isTestService(mod.default)) continue;
    const t0 = Date.now();
    log(`starting ${mod.default.name}…`);
    const service = await mod.default.start((line) =>
      log(`  ${mod.default && (mod.default as { name: string }).name}: ${line}`),
    );
    started.push(service);
    Object.assign(env, service.env);
    log(`${mod.default.name} up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const files = globSync(
    ["src/**/*.test.ts", "test/**/*.test.ts", "k8s/**/*.test.ts", "web/**/*.test.ts", "bench/**/*.test.ts"],
    {
      cwd: root,
      exclude: (f) => f.includes("node_modules"),
    },
  ).sort();
  // Browser tests run one at a time after the rest: each drives two Chromiums encoding video,
  // and two at once on 2 cores starve the encoders (the adaptation test then sees a slow link).
  const browser = files.filter((f) => f.startsWith("test/browser/"));
  const phases: [string, string[], number][] = [
    ["unit and integration tests", files.filter((f) => !browser.includes(f)), 2],
    ["browser tests", browser, 1],
  ];
  // A hang anywhere (a test, a hook, a handle keeping a file's process alive) fails the run
  // within this bound instead of running into CI's limit; a whole run takes ~5 minutes.
  const deadline = Date.now() + Number(process.env.CALLDROP_TEST_RUN_LIMIT_MS ?? 20 * 60_000);
  status = 0;
  for (const [title, list, concurrency] of phases) {
    log(`${title}: ${list.length} files, ${concurrency} at a time`);
    const r = spawnSync(
      "node",
      // Not --test-force-exit: under load it ended files before their nested suites ran (18 tests dropped).
      ["--test", `--test-concurrency=${concurrency}`, "--test-timeout=600000", "--test-reporter=spec", ...list],
      { cwd: root, stdio: "inherit", env, timeout: Math.max(1, deadline - Date.now()), killSignal: "SIGTERM" },
    );
    if (r.error) log(`${title} did not finish within the run's time limit: stopped (${r.error.message})`);
    if (r.status !== 0) status = r.status ?? 1;
  }
} finally {
  for (const s of started.reverse()) await s.stop().catch((e: unknown) => log(`stop failed: ${String(e)}`));
}
process.exit(status);
