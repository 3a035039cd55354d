// @ts-check
// Frame keys over the data channel (calls/key-rotation.js): two sides with agreed keys, a fake
// channel between them and each side's frames (calls/frame-crypto.js) as its worker.
import "./webcrypto.js";

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { FrameCrypto } from "../../src/treffpunkt/calls/static/treffpunkt/calls/frame-crypto.js";
import { KeyAgreement } from "../../src/treffpunkt/calls/static/treffpunkt/calls/key-agreement.js";
import { KeyRotation, RESEND_MS } from "../../src/treffpunkt/calls/static/treffpunkt/calls/key-rotation.js";
import { FakeTimers } from "./fake-timers.js";

/** @typedef {import("../../src/treffpunkt/calls/static/treffpunkt/calls/e2ee-worker.js").WorkerRequest} WorkerRequest */

const ROTATION_SECONDS = 30;

/**
 * @param {FrameCrypto} frames
 * @param {WorkerRequest} request
 */
async function worker(frames, request) {
  if (request.op === "setSendKey") frames.setSendKey(request.index, request.generation, request.key);
  if (request.op === "addReceiveKey") frames.addReceiveKey(request.index, request.generation, request.key);
  return { ok: true };
}

/**
 * @param {KeyAgreement} agreement
 * @param {FakeTimers} timers
 */
function side(agreement, timers) {
  const frames = new FrameCrypto();
  /** @type {string[]} */
  const outbox = [];
  /** @type {string[]} */
  const failures = [];
  const channel = { readyState: "open", send: (/** @type {string} */ data) => outbox.push(data) };
  let queue = Promise.resolve();
  const rotation = new KeyRotation({
    agreement,
    channel,
    ask: (request) => worker(frames, request),
    rotationSeconds: ROTATION_SECONDS,
    enqueue: (step) => {
      queue = queue.then(step);
    },
    onFailure: (reason) => failures.push(reason),
    timers,
  });
  return { agreement, frames, outbox, failures, channel, rotation, settled: () => queue };
}

/** @typedef {ReturnType<typeof side>} Side */

/** Two sides of one connection, keys agreed (wrapping keys derived) unless said otherwise. */
async function call({ derived = true } = {}) {
  const timers = new FakeTimers();
  const fingerprints = { staff: "sha-256 AA", member: "sha-256 BB" };
  const staffKeys = await KeyAgreement.create({ session: 7, role: "staff", fingerprint: fingerprints.staff });
  const memberKeys = await KeyAgreement.create({ session: 7, role: "member", fingerprint: fingerprints.member });
  staffKeys.takeCommitment(memberKeys.commitment);
  memberKeys.takeCommitment(staffKeys.commitment);
  staffKeys.takePublicKey(memberKeys.publicKey);
  memberKeys.takePublicKey(staffKeys.publicKey);
  if (derived) {
    await staffKeys.derive(fingerprints.member);
    await memberKeys.derive(fingerprints.staff);
  }
  return {
    timers,
    fingerprints,
    staff: side(staffKeys, timers),
    member: side(memberKeys, timers),
  };
}

/**
 * Delivers what each side sent until nothing is left on the way.
 * @param {Side} one
 * @param {Side} other
 */
async function exchange(one, other) {
  while (one.outbox.length || other.outbox.length) {
    while (one.outbox.length) await other.rotation.receive(/** @type {string} */ (one.outbox.shift()));
    while (other.outbox.length) await one.rotation.receive(/** @type {string} */ (other.outbox.shift()));
  }
}

/**
 * Whether a frame from `from` plays at `to`.
 * @param {Side} from
 * @param {Side} to
 */
async function framePlays(from, to) {
  const frame = { data: new Uint8Array([1, 2, 3, 4]).buffer };
  if (!(await from.frames.encrypt("audio", frame))) return false;
  return to.frames.decrypt("audio", frame);
}

describe("frame keys", () => {
  test("each side sends a key, the other installs and acknowledges it, then it is used", async () => {
    const { staff, member } = await call();
    await staff.rotation.start();
    await member.rotation.start();
    assert.equal(staff.outbox.length, 1);
    assert.equal(staff.rotation.sendGeneration, 0, "not before the acknowledgement");
    assert.equal(await framePlays(staff, member), false, "nothing goes out without a key");
    await exchange(staff, member);
    for (const [one, other] of [[staff, member], [member, staff]]) {
      assert.equal(one.rotation.sendGeneration, 1);
      assert.equal(one.rotation.peerGeneration, 1);
      assert.equal(await framePlays(one, other), true);
      assert.deepEqual(one.failures, []);
    }
  });

  test("what goes over the channel: the generation, an IV and the wrapped key", async () => {
    const { staff } = await call();
    await staff.rotation.start();
    const message = JSON.parse(staff.outbox[0]);
    assert.deepEqual(Object.keys(message).sort(), ["generation", "iv", "key", "t"]);
    assert.equal(message.t, "key");
    assert.equal(message.generation, 1);
    assert.equal(Buffer.from(message.key, "base64").length, 16 + 16, "a wrapped 128-bit key");
  });

  test("on the timer the next key; the sender switches only after the acknowledgement", async () => {
    const { timers, staff, member } = await call();
    await staff.rotation.start();
    await exchange(staff, member);
    timers.advance(ROTATION_SECONDS * 1000);
    await staff.settled();
    assert.equal(staff.outbox.length, 1);
    assert.equal(staff.rotation.sendGeneration, 1);
    assert.equal(await framePlays(staff, member), true, "still the old key");
    await exchange(staff, member);
    assert.equal(staff.rotation.sendGeneration, 2);
    assert.equal(member.rotation.peerGeneration, 2);
    assert.equal(await framePlays(staff, member), true);
    assert.equal(member.frames.counters.decryptFailures, 0);
  });

  test("an unacknowledged key is sent again, and no new one offered meanwhile", async () => {
    const { timers, staff, member } = await call();
    await staff.rotation.start();
    staff.outbox.length = 0; // lost: the other side was rebuilding
    timers.advance(ROTATION_SECONDS * 1000);
    await staff.settled();
    assert.ok(staff.outbox.length >= 1);
    const generations = new Set(staff.outbox.map((data) => JSON.parse(data).generation));
    assert.deepEqual([...generations], [1]);
    await exchange(staff, member);
    assert.equal(staff.rotation.sendGeneration, 1);
    timers.advance(RESEND_MS * 3);
    assert.equal(staff.outbox.length, 0, "no resending after the acknowledgement");
  });

  test("keys that overtook the public key wait until the keys are agreed", async () => {
    const { staff, member, fingerprints } = await call({ derived: false });
    await staff.agreement.derive(fingerprints.member);
    await staff.rotation.start();
    await member.rotation.receive(staff.outbox.shift() ?? "");
    assert.equal(member.rotation.early.length, 1);
    await member.agreement.derive(fingerprints.staff);
    await member.rotation.keysAgreed();
    assert.equal(member.rotation.peerGeneration, 1);
    await exchange(staff, member);
    assert.equal(await framePlays(staff, member), true);
    assert.equal(await framePlays(member, staff), true);
  });

  test("a key wrapped under another key is a failure", async () => {
    const { staff } = await call();
    const stranger = await call();
    await stranger.staff.rotation.start();
    await staff.rotation.receive(stranger.staff.outbox[0]);
    assert.deepEqual(staff.failures, ["a frame key could not be unwrapped"]);
    assert.equal(staff.rotation.peerGeneration, 0);
  });

  test("malformed messages and stray acknowledgements change nothing", async () => {
    const { staff } = await call();
    for (const data of ["", "{", "null", '{"t":"key"}', '{"t":"key","generation":0}', '{"t":"ack","generation":5}']) {
      await staff.rotation.receive(data);
    }
    assert.equal(staff.rotation.sendGeneration, 0);
    assert.equal(staff.rotation.peerGeneration, 0);
    assert.deepEqual(staff.failures, []);
  });

  test("a closed rotation stops its timers and offers nothing", async () => {
    const { timers, staff } = await call();
    await staff.rotation.start();
    staff.rotation.close();
    staff.outbox.length = 0;
    timers.advance(ROTATION_SECONDS * 3000);
    await staff.settled();
    assert.equal(staff.outbox.length, 0);
    assert.equal(timers.count, 0);
  });
});
