import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeviceLocation } from "../../app/ports/presence.ts";
import { createLocationCache, type DeviceChange, type UserSnapshot } from "./location-cache.ts";

const at = (deviceId: string, nodeId = "n1"): DeviceLocation => ({ userId: "u", deviceId, nodeId, sessionId: "s" });
const stored = (deviceId: string, modRevision: number) => ({ ...at(deviceId), modRevision });
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

/** A cache on a manual clock that records which users it was told to follow and to drop. */
function fixture(maxUsers = 10, idleMs = 1_000) {
  let time = 0;
  const followed: string[] = [];
  const dropped: string[] = [];
  const cache = createLocationCache({
    maxUsers,
    idleMs,
    now: () => time,
    hooks: {
      cached: (userId, revision) => followed.push(`${userId}@${revision}`),
      evicted: (userId) => dropped.push(userId),
    },
  });
  const empty = async (): Promise<UserSnapshot> => ({ revision: 1, locations: [] });
  return { cache, followed, dropped, empty, advance: (ms: number) => (time += ms) };
}

describe("location cache", () => {
  it("misses, then serves a loaded user from memory, following it from the read's revision", async () => {
    const { cache, followed } = fixture();
    assert.equal(cache.get("u"), undefined);
    const loaded = await cache.load("u", async () => ({ revision: 5, locations: [stored("d1", 3)] }));
    assert.deepEqual(ids(loaded), ["d1@n1"]);
    assert.deepEqual(ids(cache.get("u")), ["d1@n1"]);
    assert.deepEqual(followed, ["u@5"]);
  });

  it("applies changes that arrive while a load is in flight and are newer than the read", async () => {
    const { cache } = fixture();
    let finish: (v: UserSnapshot) => void = () => {};
    const loaded = cache.load("u", () => new Promise((r) => (finish = r)));
    cache.apply(put("d1", 4)); // older than the read: already in it
    cache.apply(del("d1", 6)); // newer: must win over the read
    cache.apply(put("d2", 7, "n2"));
    finish({ revision: 5, locations: [stored("d1", 4)] });
    assert.deepEqual(ids(await loaded), ["d2@n2"]);
    assert.deepEqual(ids(cache.get("u")), ["d2@n2"]);
  });

  it("ignores replayed changes at or below the loaded revision, applies later ones", async () => {
    const { cache } = fixture();
    await cache.load("u", async () => ({ revision: 9, locations: [] }));
    cache.apply(put("d1", 8));
    assert.deepEqual(ids(cache.get("u")), []);
    cache.apply(put("d1", 10));
    cache.apply(put("d1", 11, "n3"));
    assert.deepEqual(ids(cache.get("u")), ["d1@n3"]);
  });

  it("never lets an older change of a device undo a newer one (an own write ahead of the watch)", async () => {
    const { cache } = fixture();
    await cache.load("u", async () => ({ revision: 9, locations: [] }));
    cache.apply(put("d1", 12, "n2")); // this node's own write, applied as soon as etcd took it
    cache.apply(put("d1", 10, "n1")); // the watch delivering an earlier write of another node
    assert.deepEqual(ids(cache.get("u")), ["d1@n2"]);
    cache.apply(del("d1", 13));
    cache.apply(put("d1", 12, "n2")); // the watch catching up with the own write
    assert.deepEqual(ids(cache.get("u")), []);
  });

  it("ignores changes of users it does not hold", () => {
    const { cache } = fixture();
    cache.apply(put("d1", 1));
    assert.equal(cache.get("u"), undefined);
  });

  it("shares one load between concurrent lookups of a user", async () => {
    const { cache, followed } = fixture();
    let reads = 0;
    const read = async () => ({ revision: ++reads, locations: [] });
    await Promise.all([cache.load("u", read), cache.load("u", read)]);
    assert.equal(reads, 1);
    assert.deepEqual(followed, ["u@1"]);
  });

  it("evicts the least recently used user beyond its bound and stops following it", async () => {
    const { cache, dropped, empty } = fixture(2);
    for (const u of ["a", "b"]) await cache.load(u, empty);
    cache.get("a");
    await cache.load("c", empty);
    assert.equal(cache.size, 2);
    assert.notEqual(cache.get("a"), undefined);
    assert.equal(cache.get("b"), undefined);
    assert.deepEqual(dropped, ["b"]);
  });

  it("drops users not looked up within the idle time, and keeps those looked up since", async () => {
    const { cache, dropped, empty, advance } = fixture(10, 1_000);
    for (const u of ["a", "b", "c"]) await cache.load(u, empty);
    advance(600);
    cache.get("b");
    advance(600);
    cache.evictIdle();
    assert.deepEqual(dropped.sort(), ["a", "c"]);
    assert.notEqual(cache.get("b"), undefined);
    assert.equal(cache.size, 1);
  });

  it("does not cache a load that straddles a forget, and forgets a failed load", async () => {
    const { cache, followed, dropped } = fixture();
    let finish: (v: UserSnapshot) => void = () => {};
    const loaded = cache.load("u", () => new Promise((r) => (finish = r)));
    cache.forget("u");
    finish({ revision: 1, locations: [stored("d1", 1)] });
    assert.deepEqual(ids(await loaded), ["d1@n1"]);
    assert.equal(cache.get("u"), undefined);
    assert.deepEqual(followed, []);
    await assert.rejects(
      cache.load("v", () => Promise.reject(new Error("etcd down"))),
      /etcd down/,
    );
    assert.equal(cache.get("v"), undefined);
    assert.deepEqual(followed, []);
    assert.deepEqual(dropped, []);
  });
});
