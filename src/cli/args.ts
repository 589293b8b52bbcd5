/** The CLI's command line: options, commands and the usage text built from them. */
import { parseArgs } from "node:util";

const options = {
  server: { type: "string", default: "http://127.0.0.1:8080" },
  user: { type: "string" },
  device: { type: "string", default: "cli" },
  seconds: { type: "string", default: "5" },
  help: { type: "boolean", short: "h" },
} as const;

const optionHelp: Record<keyof typeof options, [arg: string, text: string]> = {
  server: ["URL", "the server to talk to"],
  user: ["ID", "your user id (required for every command)"],
  device: ["ID", "this device's id"],
  seconds: ["N", "for `call`: hang up N seconds after the answer"],
  help: ["", "print this help"],
};

const commands = [
  ["call PEER", "call user PEER (who runs `answer`), hang up after --seconds"],
  ["answer", "wait for a call and answer it"],
  ["history", "print your last 10 calls"],
] as const;

/** The usage text: every command and every option with its default. */
export const usage = [
  "usage: npm run cli -- --user ID [options] <command>",
  "",
  "commands:",
  ...commands.map(([name, text]) => `  ${name.padEnd(18)}${text}`),
  "",
  "options:",
  ...Object.entries(optionHelp).map(([name, [arg, text]]) => {
    const o: { readonly type: string; readonly short?: string; readonly default?: string } =
      options[name as keyof typeof options];
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${arg ? ` ${arg}` : ""}`;
    return `  ${flag.padEnd(18)}${text}${o.default ? ` (default ${o.default})` : ""}`;
  }),
  "",
].join("\n");

/** A valid command line, ready to run. */
export interface CliArgs {
  readonly server: string;
  readonly user: string;
  readonly device: string;
  readonly seconds: number;
  readonly command: { readonly name: "call"; readonly peer: string } | { readonly name: "answer" | "history" };
}

/** What the command line asks for: a run, the help, or a one-line error to show above the usage. */
export type ParsedArgs = { kind: "run"; args: CliArgs } | { kind: "help" } | { kind: "error"; message: string };

/** Parses `argv` (without node and the script); never throws. */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true });
  } catch (err) {
    // node:util reports unknown options and missing values as TypeErrors with a readable message.
    return { kind: "error", message: err instanceof Error ? err.message : String(err) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  const [name, peer, ...extra] = positionals;
  const seconds = Number(values.seconds);
  if (!values.user) return { kind: "error", message: "--user ID is required" };
  if (!Number.isFinite(seconds) || seconds < 0) return { kind: "error", message: "--seconds must be a number ≥ 0" };
  const base = { server: values.server, user: values.user, device: values.device, seconds };
  if (name === "call" && peer && extra.length === 0) return { kind: "run", args: { ...base, command: { name, peer } } };
  if ((name === "answer" || name === "history") && peer === undefined) {
    return { kind: "run", args: { ...base, command: { name } } };
  }
  if (name === undefined) return { kind: "error", message: "no command given" };
  if (name === "call") return { kind: "error", message: "call takes exactly one PEER" };
  if (name === "answer" || name === "history") return { kind: "error", message: `${name} takes no arguments` };
  return { kind: "error", message: `unknown command '${name}'` };
}
