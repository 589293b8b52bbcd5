import { callDirectoryContract } from "./call-directory.contract.ts";
import { createMemoryCallDirectory } from "./memory-call-directory.ts";

callDirectoryContract("in-memory", () => {
  const dir = createMemoryCallDirectory();
  return { open: () => dir, close: async () => {} };
});
