/**
 * `npm test`: static checks, then every test file under src/, test/, k8s/, web/ and bench/ with the
 * real engines of scripts/services/ started once for the whole run and stopped after.
 *
 *   npm test                         everything (what CI runs)
 *   npm test -- test/resume.test.ts  only these files (no static checks), engines started as usual
 *   npm test -- --serve              start the engines, print their environment, keep them up until Ctrl-C;
 *                                    then `node --test FILE` in a shell with that environment reuses them
 *
 * The run ends with one line for all its phases: `N passed, N failed` (plus skipped, when any).
 */
import { spawnSync } from "node:child_process";
import { globSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isTestService, type RunningService } from "./services/service.ts";

const root = join(import.meta.dirname, "..");
const log = (line: string) => process.stdout.write(`[test] ${line}\n`);
const args = process.argv.slice(2);
const serveOnly = args.includes("--serve");
const chosen = args.filter((a) => !a.startsWith("--"));

function run(title: string, cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): void {
  log(`${title}: ${cmd} ${argv.join(" ")}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    log(`${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

if (!serveOnly && chosen.length === 0) {
  run("generated code is fresh", "node", ["scripts/check-gen.ts"]);
  run("buf lint", "npx", ["buf", "lint"]);
  if (spawnSync("git", ["rev-parse", "--verify", "-q", "HEAD~1"], { cwd: root }).status === 0) {
    // Wire compatibility with the previous commit: clients built from older protos keep working.
    run("buf breaking", "npx", ["buf", "breaking", "--against", ".git#ref=HEAD~1"]);
  }
  run("typecheck", "npx", ["tsc", "--noEmit"]);
  run("lint", "npx", ["biome", "check", "."]);
  // The layer rules of docs/style.md rule 1, with no baseline: any violation fails (test/layer-rules.test.ts).
  run("layers", "npx", ["depcruise", "src", "--config", ".dependency-cruiser.cjs"]);
}

/** Test counts of one phase, read from the TAP summary the runner writes beside its spec output. */
interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

function tallyOf(tapFile: string): Tally {
  let text = "";
  try {
    text = readFileSync(tapFile, "utf8");
  } catch {
    return { passed: 0, failed: 0, skipped: 0 };
  }
  // The summary lines come last and are unindented: `# pass 12`, `# fail 0`, `# skipped 1`, `# todo 0`.
  const count = (name: string) => lastCount(text, name);
  return { passed: count("pass"), failed: count("fail") + count("cancelled"), skipped: count("skipped") };
}

function lastCount(text: string, name: string): number {
  const matches = [...text.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))];
  return matches.length > 0 ? Number(matches[matches.length - 1]?.[1]) : 0;
}

const started: RunningService[] = [];
const env: NodeJS.ProcessEnv = { ...process.env };
let status = 1;
const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const reports = mkdtempSync(join(tmpdir(), "calldrop-test-report-"));
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
  if (serveOnly) {
    const lines = started.flatMap((s) => Object.entries(s.env).map(([k, v]) => `export ${k}=${v}`));
    process.stdout.write(`${lines.join("\n")}\n`);
    log("engines up; Ctrl-C stops them");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    status = 0;
  } else {
    const files = (
      chosen.length > 0
        ? chosen
        : globSync(
            ["src/**/*.test.ts", "test/**/*.test.ts", "k8s/**/*.test.ts", "web/**/*.test.ts", "bench/**/*.test.ts"],
            { cwd: root, exclude: (f) => f.includes("node_modules") },
          )
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
    for (const [index, [title, list, concurrency]] of phases.entries()) {
      if (list.length === 0) continue;
      log(`${title}: ${list.length} files, ${concurrency} at a time`);
      const tap = join(reports, `phase-${index}.tap`);
      const r = spawnSync(
        "node",
        [
          "--test",
          `--test-concurrency=${concurrency}`,
          "--test-timeout=600000",
          // Not --test-force-exit: under load it ended files before their nested suites ran (18 tests dropped).
          ...["--test-reporter=spec", "--test-reporter-destination=stdout"],
          ...["--test-reporter=tap", `--test-reporter-destination=${tap}`],
          ...list,
        ],
        { cwd: root, stdio: "inherit", env, timeout: Math.max(1, deadline - Date.now()), killSignal: "SIGTERM" },
      );
      if (r.error) log(`${title} did not finish within the run's time limit: stopped (${r.error.message})`);
      if (r.status !== 0) status = r.status ?? 1;
      const tally = tallyOf(tap);
      log(`${title}: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
      total.passed += tally.passed;
      total.failed += tally.failed;
      total.skipped += tally.skipped;
    }
    if (status !== 0 && total.failed === 0) log("a phase failed without a failing test (a crash or the time limit)");
  }
} finally {
  for (const s of started.reverse()) await s.stop().catch((e: unknown) => log(`stop failed: ${String(e)}`));
  rmSync(reports, { recursive: true, force: true });
}
if (!serveOnly) {
  process.stdout.write(
    `\n${total.passed} passed, ${total.failed} failed${total.skipped > 0 ? `, ${total.skipped} skipped` : ""}\n`,
  );
}
process.exit(status);
