/**
 * A real engine the tests need (etcd, Cassandra, coturn, …). `npm test` loads every
 * module in scripts/services/ whose default export is a TestService, provisions it
 * (installing from Debian or Maven Central when missing), starts it on 127.0.0.1,
 * hands its address to the tests through environment variables, and stops it at the end.
 */
export interface TestService {
  readonly name: string;
  /** Installs (when missing) and starts the engine; resolves once it answers. */
  start(log: (line: string) => void): Promise<RunningService>;
}

/** A started engine. */
export interface RunningService {
  /** Variables for the test processes, e.g. CALLDROP_TEST_ETCD=127.0.0.1:23790. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the engine and removes its temporary data. */
  stop(): Promise<void>;
}

/** Type guard for a module's default export. */
export function isTestService(x: unknown): x is TestService {
  return typeof x === "object" && x !== null && "name" in x && "start" in x && typeof x.start === "function";
}
