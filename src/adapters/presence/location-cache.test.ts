import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeviceLocation } from "../../app/ports/presence.ts";
import { createLocationCache, type DeviceChange } from "./location-cache.ts";

const at = (deviceId: string, nodeId = "n1"): DeviceLocation => ({ userId: "u", deviceId, nodeId, sessionId: "s" });
const put = (deviceId: string, revision: number, nodeId = "n1"): DeviceChange => ({
  userId: "u",
  deviceId,
  location: at(deviceId, nodeId),
  revision,
});
const del = (deviceId: string, revision: number): DeviceChange => ({
  userId: "u",
  deviceId,
  location: undefined,
  revision,
});
const ids = (ls: readonly DeviceLocation[] | undefined) => ls?.map((l) => `${l.deviceId}@${l.nodeId}`).sort();

describe("location cache", () => {
  it("misses, then serves a loaded user from memory", async () => {
    const cache = createLocationCache(10);
    assert.equal(cache.get("u"), undefined);
    assert.deepEqual(ids(await cache.load("u", async () => ({ revision: 5, locations: [at("d1")] }))), ["d1@n1"]);
    assert.deepEqual(ids(cache.get("u")), ["d1@n1"]);
  });

  it("applies changes that arrive while a load is in flight and are newer than the read", async () => {
    const cache = createLocationCache(10);
    let finish: (v: { revision: number; locations: DeviceLocation[] }) => void = () => {};
    const loaded = cache.load("u", () => new Promise((r) => (finish = r)));
    assert.equal(cache.tracks("u"), true);
    cache.apply(put("d1", 4)); // older than the read: already in it
    cache.apply(del("d1", 6)); // newer: must win over the read
    cache.apply(put("d2", 7, "n2"));
    finish({ revision: 5, locations: [at("d1")] });
    assert.deepEqual(ids(await loaded), ["d2@n2"]);
    assert.deepEqual(ids(cache.get("u")), ["d2@n2"]);
  });

  it("ignores replayed changes at or below the loaded revision, applies later ones", async () => {
    const cache = createLocationCache(10);
    await cache.load("u", async () => ({ revision: 9, locations: [] }));
    cache.apply(put("d1", 8));
    assert.deepEqual(ids(cache.get("u")), []);
    cache.apply(put("d1", 10));
    cache.apply(put("d1", 11, "n3"));
    assert.deepEqual(ids(cache.get("u")), ["d1@n3"]);
  });

  it("ignores changes of users it does not hold", () => {
    const cache = createLocationCache(10);
    cache.apply(put("d1", 1));
    assert.equal(cache.get("u"), undefined);
    assert.equal(cache.tracks("u"), false);
  });

  it("shares one load between concurrent lookups of a user", async () => {
    const cache = createLocationCache(10);
    let reads = 0;
    const read = async () => ({ revision: ++reads, locations: [] });
    await Promise.all([cache.load("u", read), cache.load("u", read)]);
    assert.equal(reads, 1);
  });

  it("evicts the least recently used user beyond its bound", async () => {
    const cache = createLocationCache(2);
    for (const u of ["a", "b"]) await cache.load(u, async () => ({ revision: 1, locations: [] }));
    cache.get("a");
    await cache.load("c", async () => ({ revision: 1, locations: [] }));
    assert.equal(cache.size, 2);
    assert.notEqual(cache.get("a"), undefined);
    assert.equal(cache.get("b"), undefined);
  });

  it("does not cache a load that straddles a reset, and forgets a failed load", async () => {
    const cache = createLocationCache(10);
    let finish: (v: { revision: number; locations: DeviceLocation[] }) => void = () => {};
    const loaded = cache.load("u", () => new Promise((r) => (finish = r)));
    cache.reset();
    finish({ revision: 1, locations: [at("d1")] });
    assert.deepEqual(ids(await loaded), ["d1@n1"]);
    assert.equal(cache.get("u"), undefined);
    await assert.rejects(
      cache.load("v", () => Promise.reject(new Error("etcd down"))),
      /etcd down/,
    );
    assert.equal(cache.tracks("v"), false);
  });
});
