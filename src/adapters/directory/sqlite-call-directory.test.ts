import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallDirectory } from "../../app/ports/call-directory.ts";
import { callDirectoryContract } from "./call-directory.contract.ts";
import { createSqliteCallDirectory } from "./sqlite-call-directory.ts";

callDirectoryContract("sqlite (connections sharing one file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "calldrop-directory-"));
  const opened: CallDirectory[] = [];
  return {
    open() {
      const d = createSqliteCallDirectory(join(dir, "calls.db"));
      opened.push(d);
      return d;
    },
    async close() {
      for (const d of opened) await d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
