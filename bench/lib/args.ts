import { parseArgs } from "node:util";

/** Parsed command line of `npm run bench -- [scenario...] [--quick] [--out dir]`. */
export type BenchArgs = { scenarios: string[]; quick: boolean; outDir: string | undefined; help: boolean };

/**
 * Parses the harness arguments and checks scenario names against `known`; no names means all
 * (with --quick: `quickDefaults` when given, so the quick run fits its time budget).
 * Throws with a usage hint on unknown names or options.
 */
export function parseBenchArgs(argv: string[], known: string[], quickDefaults?: string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const unknown = positionals.filter((p) => !known.includes(p));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const quick = values.quick ?? false;
  return {
    scenarios: positionals.length ? [...new Set(positionals)] : quick && quickDefaults ? quickDefaults : known,
    quick,
    outDir: values.out,
    help: values.help ?? false,
  };
}
