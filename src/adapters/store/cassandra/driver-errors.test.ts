/** Which driver failures the outbox may wait out, and which are bugs or misconfiguration. */
import assert from "node:assert/strict";
import { test } from "node:test";
import cassandra from "cassandra-driver";
import { isDomainError } from "../../../domain/errors.ts";
import { guarded, isTransient } from "./driver-errors.ts";

const { errors, types } = cassandra;
const socketError = (code: string) => Object.assign(new Error(code), { code });

test("unreachable, overloaded and timed-out clusters are transient", () => {
  assert.ok(isTransient(new errors.NoHostAvailableError({})));
  assert.ok(isTransient(new errors.OperationTimedOutError("timeout", "127.0.0.1:9042")));
  assert.ok(isTransient(new errors.ResponseError(types.responseErrorCodes.unavailableException, "unavailable")));
  assert.ok(isTransient(new errors.ResponseError(types.responseErrorCodes.writeTimeout, "write timeout")));
  assert.ok(isTransient(new errors.ResponseError(types.responseErrorCodes.overloaded, "overloaded")));
  assert.ok(isTransient(socketError("ECONNREFUSED")));
  assert.ok(isTransient(socketError("ECONNRESET")));
});

test("bad CQL, bad credentials and programming errors are not", () => {
  assert.ok(!isTransient(new errors.ResponseError(types.responseErrorCodes.syntaxError, "syntax")));
  assert.ok(!isTransient(new errors.ResponseError(types.responseErrorCodes.invalid, "invalid")));
  assert.ok(!isTransient(new errors.ResponseError(types.responseErrorCodes.unauthorized, "unauthorized")));
  assert.ok(!isTransient(new errors.AuthenticationError("bad password")));
  assert.ok(!isTransient(new errors.ArgumentError("bad argument")));
  assert.ok(!isTransient(socketError("ERR_INVALID_ARG_TYPE")));
  assert.ok(!isTransient(new TypeError("x is undefined")));
});

test("guarded maps transient failures to unavailable and keeps the rest", async () => {
  await assert.rejects(
    guarded("get", () => Promise.reject(new errors.NoHostAvailableError({}))),
    (e: unknown) => isDomainError(e, "unavailable"),
  );
  await assert.rejects(
    guarded("get", () => Promise.reject(new errors.ResponseError(types.responseErrorCodes.invalid, "bad"))),
    (e: unknown) => !isDomainError(e) && e instanceof Error && /call history store get failed: bad/.test(e.message),
  );
});
