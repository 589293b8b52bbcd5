import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { domainErrorCodes } from "../domain/errors.ts";
import { codeName, codeOf, domainCodeOfName } from "./status-codes.ts";

describe("status codes", () => {
  it("read every domain code's status name back as a domain code with the same status", () => {
    for (const code of domainErrorCodes) {
      const back = domainCodeOfName(codeName(codeOf(code)));
      assert.ok(back, code);
      assert.equal(codeOf(back), codeOf(code), code);
    }
    assert.equal(domainCodeOfName("resource_exhausted"), "limit_exceeded");
    assert.equal(domainCodeOfName("failed_precondition"), "illegal_transition");
    assert.equal(domainCodeOfName("internal"), undefined);
  });
});
