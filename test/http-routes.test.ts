/**
 * The plain HTTP routes (health, readiness, metrics, client config, dev tokens, static
 * files, unknown paths): bad input of any kind gets an HTTP error answer, never a crash.
 * A live call between two other users stays up through all of it and ends normally.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { cors } from "@connectrpc/connect";
import { pino } from "pino";
import { Registry } from "prom-client";
import { DomainError } from "../src/domain/errors.ts";
import type { Authenticator } from "../src/transport/auth.ts";
import { createRouter, type HttpServerDeps } from "../src/transport/http-server.ts";
import { mobileDevice, webDevice } from "./support/devices.ts";
import { type ServerProcess, startServer } from "./support/server-process.ts";

interface Answer {
  readonly status: number;
  readonly body: string;
}

const allowedOrigin = "https://chat.example.com";
const preflight = (origin: string) => ({
  origin,
  "access-control-request-method": "POST",
  "access-control-request-headers": "authorization,content-type,connect-protocol-version",
});

/** Sends `method path` exactly as written (fetch would normalise the path). */
function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer & { headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTP routes of the real server", () => {
  let server: ServerProcess;
  let staticDir: string;
  before(async () => {
    staticDir = mkdtempSync(join(tmpdir(), "calldrop-static-"));
    writeFileSync(join(staticDir, "index.html"), "<!doctype html><title>calldrop</title>");
    server = await startServer({
      CALLDROP_SERVER__STATIC_DIR: staticDir,
      CALLDROP_SERVER__CORS_ALLOWED_ORIGINS: JSON.stringify([allowedOrigin]),
    });
  });
  after(async () => {
    await server.stop();
    rmSync(staticDir, { recursive: true, force: true });
  });

  test("bad requests on every non-RPC route get an error answer while a call between others goes on", async () => {
    const alice = await mobileDevice({
      baseUrl: server.baseUrl,
      token: await server.token("alice"),
      userId: "alice",
      deviceId: "phone",
    });
    const bob = await webDevice({
      baseUrl: server.baseUrl,
      token: await server.token("bob"),
      userId: "bob",
      deviceId: "web",
    });
    const { callId } = await alice.command("startCall", { calleeUserId: "bob" });
    await bob.next("incomingCall");
    await bob.command("accept", { callId });

    const userIdRule = /user id must be 1–128 of/;
    const cases: [method: string, path: string, status: number, body?: RegExp][] = [
      ["GET", "/dev/token?user=a%20b", 400, userIdRule],
      ["GET", "/dev/token?user=%F0%9F%98%80", 400, userIdRule],
      ["GET", "/dev/token?user=%20%20%20", 400, userIdRule],
      ["GET", "/dev/token?user=", 400, userIdRule],
      ["GET", "/dev/token", 400, userIdRule],
      ["GET", `/dev/token?user=${"x".repeat(10_000)}`, 400, userIdRule],
      ["GET", "/dev/token?user=a%00b", 400, userIdRule],
      ["GET", "/dev/token?user=%zz", 400, userIdRule],
      ["GET", "/dev/service-token?service=a%20b&scope=history:read", 400, /service must be 1–128 of/],
      ["GET", "/dev/service-token?scope=history:read", 400, /service must be 1–128 of/],
      ["GET", "/dev/service-token?service=chat", 400, /scope must be one or more of/],
      ["GET", "/dev/service-token?service=chat&scope=admin", 400, /scope must be one or more of/],
      ["GET", "/dev/service-token?service=chat&scope=%00", 400, /scope must be one or more of/],
      ["GET", "/healthz?%zz=%00", 200, /ok/],
      ["GET", "/readyz?a=1&a=2", 200, /ready/],
      ["GET", "/metrics?name[]=%ff", 200, /calldrop_/],
      ["GET", "/client-config?%", 200, /webPushPublicKey/],
      ["GET", "/index.html?%zz", 200, /calldrop/],
      ["GET", "/%zz", 200, /calldrop/], // the single-page app answers unknown paths with its page
      ["GET", "/..%2f..%2f..%2fetc%2fpasswd", 200, /calldrop/],
      ["GET", "/%00", 200, /calldrop/],
      ["GET", "//%zz", 200, /calldrop/],
      ["GET", "//evil.example/healthz", 200, /calldrop/], // a path, not another origin
      ["GET", "/calldrop.v1.SignalService/Nope", 200, /calldrop/],
      ["POST", "/nope", 404, /not found/],
      ["DELETE", "/healthz", 404, /not found/],
      ["PUT", "/dev/token?user=a%20b", 404, /not found/],
      ["PATCH", "//%zz", 404, /not found/],
      ["OPTIONS", "/%zz", 204], // a preflight without an Origin: answered, allowing nobody
    ];
    for (const [method, path, status, body] of cases) {
      const answer = await request(server.port, method, path);
      const what = `${method} ${path.slice(0, 60)}`;
      assert.equal(answer.status, status, `${what}: ${answer.body}`);
      assert.equal(answer.headers["access-control-allow-origin"], undefined, what);
      if (body) assert.match(answer.body, body, what);
    }

    // Still the same process, serving the call.
    assert.equal((await request(server.port, "GET", "/healthz")).status, 200);
    await alice.command("iceCandidate", { callId, candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host" });
    await bob.next("iceCandidate");
    await bob.command("hangup", { callId });
    assert.equal((await alice.next("callEnded")).value.outcome, 1, "completed");
    assert.equal(alice.streamError(), undefined);
    assert.equal(bob.streamError(), undefined);
    alice.drop();
    bob.drop();
  });
});

describe("CORS on the real server", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ CALLDROP_SERVER__CORS_ALLOWED_ORIGINS: JSON.stringify([allowedOrigin]) });
  });
  after(async () => {
    await server.stop();
  });
  const rpcPath = "/calldrop.v1.SignalService/GetIceServers";

  test("a preflight from an allowed origin names it, the Connect methods and headers, and the bearer token", async () => {
    const answer = await request(server.port, "OPTIONS", rpcPath, preflight(allowedOrigin));
    assert.equal(answer.status, 204);
    assert.equal(answer.headers["access-control-allow-origin"], allowedOrigin);
    assert.match(String(answer.headers.vary), /Origin/);
    assert.deepEqual(answer.headers["access-control-allow-methods"]?.split(","), [...cors.allowedMethods]);
    assert.deepEqual(answer.headers["access-control-allow-headers"]?.split(","), [
      ...cors.allowedHeaders,
      "Authorization",
    ]);
    assert.equal(answer.headers["access-control-max-age"], "7200");
    assert.equal(answer.headers["access-control-allow-credentials"], undefined, "bearer tokens, no cookies");
  });

  test("a preflight from any other origin allows nothing", async () => {
    for (const origin of ["https://evil.example", "https://chat.example.com.evil.example", "null"]) {
      const answer = await request(server.port, "OPTIONS", rpcPath, preflight(origin));
      assert.equal(answer.status, 204, origin);
      assert.equal(answer.headers["access-control-allow-origin"], undefined, origin);
    }
  });

  test("an RPC from an allowed origin gets the origin and the exposed Connect headers", async () => {
    const headers = { origin: allowedOrigin, "content-type": "application/json", authorization: "Bearer nope" };
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port: server.port, method: "POST", path: rpcPath, headers },
        resolve,
      );
      req.on("error", reject);
      req.end("{}");
    });
    answer.resume();
    assert.equal(answer.statusCode, 401, "unauthenticated, as Connect answers it");
    assert.equal(answer.headers["access-control-allow-origin"], allowedOrigin);
    assert.deepEqual(answer.headers["access-control-expose-headers"]?.split(","), [...cors.exposedHeaders]);
  });
});

describe("createRouter", () => {
  const logged: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "error" },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  const boom = new Error("secret detail");
  const failingRegistry = Object.assign(new Registry(), { metrics: () => Promise.reject(boom) });
  const deps: HttpServerDeps = {
    rpc: (req, res) => {
      if (req.url === "/partial") {
        (res as http.ServerResponse).writeHead(200);
        (res as http.ServerResponse).write("half");
      }
      throw boom;
    },
    registry: failingRegistry,
    isReady: () => {
      throw boom;
    },
    auth: {
      issueDevToken: (userId: string) => {
        throw userId === "domain" ? new DomainError("invalid_argument", "user id is bad") : boom;
      },
    } as unknown as Authenticator,
    devTokenTtlS: 60,
    logger,
    corsAllowedOrigins: [],
  };
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer(createRouter(deps));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("a DomainError thrown by a route is 400 with its message, not logged", async () => {
    logged.length = 0;
    const { status, body } = await request(port, "GET", "/dev/token?user=domain");
    assert.deepEqual({ status, body }, { status: 400, body: "user id is bad\n" });
    assert.equal(logged.length, 0);
  });

  test("any other throw or rejection is 500 without details, logged", async () => {
    for (const path of ["/dev/token?user=x", "/readyz", "/metrics", "/rpc"]) {
      logged.length = 0;
      const { status, body } = await request(port, "GET", path);
      assert.deepEqual({ status, body }, { status: 500, body: "internal error\n" }, path);
      assert.equal(logged.length, 1, path);
      assert.equal(logged[0]?.msg, "HTTP handler failed");
      assert.match(JSON.stringify(logged[0]?.err), /secret detail/);
    }
  });

  test("same origin only by default: a preflight names no origin", async () => {
    const answer = await request(port, "OPTIONS", "/calldrop.v1.SignalService/Send", preflight(allowedOrigin));
    assert.equal(answer.status, 204);
    assert.equal(answer.headers["access-control-allow-origin"], undefined);
  });

  test("a throw after the response started cuts the response short", async () => {
    await assert.rejects(request(port, "GET", "/partial"), /aborted|socket hang up|ECONNRESET/);
    assert.equal((await request(port, "GET", "/dev/token?user=domain")).status, 400, "the server still answers");
  });
});
