/**
 * Where the tooling keeps its downloads (Cassandra jars, unpacked Debian packages): outside
 * the work tree, so a clone stays small and `git clean` does not cost a re-download.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** `$CALLDROP_CACHE_DIR`, else `$XDG_CACHE_HOME/calldrop`, else `~/.cache/calldrop`; `parts` appended. */
export function cacheDir(...parts: string[]): string {
  const base =
    process.env.CALLDROP_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "calldrop");
  return join(base, ...parts);
}
