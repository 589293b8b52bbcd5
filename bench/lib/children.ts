import { type ChildProcess, fork } from "node:child_process";

/** A message on a child's IPC channel: every message in this harness has a string `type`. */
export type IpcMessage = { type: string; [key: string]: unknown };

/** A running child process with a buffered IPC inbox. */
export type Child = {
  readonly name: string;
  readonly pid: number;
  send(message: IpcMessage): void;
  /** Resolves with the first (buffered or future) message of `type`; rejects on exit or timeout. */
  waitFor<T extends IpcMessage>(type: string, timeoutMs: number): Promise<T>;
  /** Closes IPC (children exit on disconnect), then SIGKILLs after `graceMs`. Resolves on exit. */
  stop(graceMs?: number): Promise<void>;
};

/** Spawner that remembers its children so the harness can kill them all on the way out. */
export type Children = {
  /** Forks `script` on this Node binary with an IPC channel and waits for nothing. */
  spawn(name: string, script: string, options?: { execArgv?: string[] }): Child;
  /** Stops every child still running. */
  stopAll(): Promise<void>;
};

/** Creates an empty child registry. */
export function createChildren(log: (line: string) => void): Children {
  const running = new Set<Child>();
  return {
    spawn(name, script, options) {
      const proc = fork(script, [], {
        execPath: process.execPath,
        execArgv: options?.execArgv ?? [],
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      });
      const child = wrap(name, proc, log);
      running.add(child);
      proc.once("exit", () => running.delete(child));
      return child;
    },
    async stopAll() {
      await Promise.all([...running].map((c) => c.stop(1000)));
    },
  };
}

function wrap(name: string, proc: ChildProcess, log: (line: string) => void): Child {
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  const inbox: IpcMessage[] = [];
  const waiters = new Set<() => void>();
  const tail: string[] = [];
  let exited: string | undefined;
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (/error|warn/i.test(line)) log(`[${name}] ${line}`);
    }
  };
  proc.stdout?.on("data", remember);
  proc.stderr?.on("data", remember);
  proc.on("message", (m) => {
    inbox.push(m as IpcMessage);
    for (const w of waiters) w();
  });
  const exitPromise = new Promise<void>((resolve) => {
    proc.once("exit", (code, signal) => {
      exited = `${name} exited (${signal ?? code}); last output:\n${tail.join("\n")}`;
      for (const w of waiters) w();
      resolve();
    });
  });
  proc.on("error", (e) => log(`[${name}] ${e.message}`));

  return {
    name,
    pid: proc.pid,
    send(message) {
      if (proc.connected) proc.send(message);
    },
    waitFor<T extends IpcMessage>(type: string, timeoutMs: number) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const i = inbox.findIndex((m) => m.type === type);
          if (i >= 0) {
            done();
            resolve(inbox.splice(i, 1)[0] as T);
          } else if (exited) {
            done();
            reject(new Error(`waiting for "${type}": ${exited}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no "${type}" within ${timeoutMs} ms; last output:\n${tail.join("\n")}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 3000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (proc.connected) proc.disconnect();
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
