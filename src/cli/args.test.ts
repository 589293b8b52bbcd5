import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCliArgs, usage } from "./args.ts";

test("--help and -h ask for the usage, which lists every option and command", () => {
  assert.deepEqual(parseCliArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseCliArgs(["-h", "--user", "bob", "answer"]), { kind: "help" });
  for (const word of [
    "--server URL",
    "--user ID",
    "--device ID",
    "--seconds N",
    "-h, --help",
    "call PEER",
    "answer",
    "history",
  ]) {
    assert.ok(usage.includes(word), `usage lacks ${word}`);
  }
});

test("a valid command line is run with its defaults filled in", () => {
  assert.deepEqual(parseCliArgs(["--user", "alice", "call", "bob"]), {
    kind: "run",
    args: {
      server: "http://127.0.0.1:8080",
      user: "alice",
      device: "cli",
      seconds: 5,
      command: { name: "call", peer: "bob" },
    },
  });
  const history = parseCliArgs(["--user=bob", "--server", "http://h:1", "history"]);
  assert.equal(history.kind === "run" && history.args.server, "http://h:1");
});

test("bad command lines give a one-line reason, never a throw", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /Unknown option '--bogus'/],
    [["--user"], /--user/],
    [["answer"], /--user ID is required/],
    [["--user", "a"], /no command/],
    [["--user", "a", "call"], /exactly one PEER/],
    [["--user", "a", "dance"], /unknown command 'dance'/],
    [["--user", "a", "history", "x"], /takes no arguments/],
    [["--user", "a", "--seconds", "soon", "answer"], /--seconds/],
  ];
  for (const [argv, reason] of cases) {
    const parsed = parseCliArgs(argv);
    assert.equal(parsed.kind, "error", argv.join(" "));
    if (parsed.kind === "error") {
      assert.match(parsed.message, reason);
      assert.ok(!parsed.message.includes("\n    at "), "no stack trace");
    }
  }
});
