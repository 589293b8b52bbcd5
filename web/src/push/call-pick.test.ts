import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadPushDevice, pickFromMessage, pickFromUrl, savePushDevice, withoutPick } from "./call-pick.ts";
import { base64UrlBytes } from "./web-push.ts";

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, v),
  };
}

describe("notification picks", () => {
  it("reads the call and action the service worker put in the URL, and drops them", () => {
    const url = new URL("http://127.0.0.1:8080/?capture=360&call=c%2F1&action=accept");
    assert.deepEqual(pickFromUrl(url), { callId: "c/1", action: "accept" });
    assert.deepEqual(pickFromUrl(new URL("http://h/?call=c2&action=bogus")), { callId: "c2", action: "" });
    assert.equal(pickFromUrl(new URL("http://h/?capture=360")), undefined);
    assert.equal(withoutPick(url), "http://127.0.0.1:8080/?capture=360");
  });

  it("reads only the service worker's click messages", () => {
    assert.deepEqual(pickFromMessage({ type: "calldrop.notificationclick", callId: "c1", action: "decline" }), {
      callId: "c1",
      action: "decline",
    });
    assert.equal(pickFromMessage({ type: "calldrop.pushsubscriptionchange" }), undefined);
    assert.equal(pickFromMessage({ type: "calldrop.notificationclick", callId: "" }), undefined);
    assert.equal(pickFromMessage(null), undefined);
  });

  it("remembers and forgets the push device", () => {
    const s = memoryStorage();
    assert.equal(loadPushDevice(s), undefined);
    savePushDevice(s, { userId: "bob", deviceId: "web-1" });
    assert.deepEqual(loadPushDevice(s), { userId: "bob", deviceId: "web-1" });
    savePushDevice(s, undefined);
    assert.equal(loadPushDevice(s), undefined);
    s.setItem("calldrop.pushDevice", "{not json");
    assert.equal(loadPushDevice(s), undefined);
  });

  it("decodes the base64url VAPID key", () => {
    const key = Buffer.alloc(65, 0xfb);
    key[0] = 4;
    assert.deepEqual(Buffer.from(base64UrlBytes(key.toString("base64url"))), key);
  });
});
