// @ts-check
// The key agreement of a call connection (calls/key-agreement.js) and the verification code
// (calls/verification.js), with Node's WebCrypto.
import "./webcrypto.js";

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  KeyAgreement,
  KeyAgreementError,
  commitmentFor,
} from "../../src/treffpunkt/calls/static/treffpunkt/calls/key-agreement.js";
import { verificationCode } from "../../src/treffpunkt/calls/static/treffpunkt/calls/verification.js";
import { fromBase64 } from "../../src/treffpunkt/calls/static/treffpunkt/calls/encoding.js";

const STAFF_FINGERPRINT = "sha-256 AA:BB:CC";
const MEMBER_FINGERPRINT = "sha-256 11:22:33";

/** Both sides of one connection, with commitments and keys exchanged as the server relays them. */
async function pair(session = 41) {
  const staff = await KeyAgreement.create({ session, role: "staff", fingerprint: STAFF_FINGERPRINT });
  const member = await KeyAgreement.create({
    session,
    role: "member",
    fingerprint: MEMBER_FINGERPRINT,
  });
  staff.commitSent = member.commitSent = true;
  assert.equal(staff.takeCommitment(member.commitment), "taken");
  assert.equal(member.takeCommitment(staff.commitment), "taken");
  return { staff, member };
}

/**
 * @param {KeyAgreement} from
 * @param {KeyAgreement} to
 */
function reveal(from, to) {
  const key = from.keyToReveal();
  assert.ok(key);
  assert.equal(to.takePublicKey(key), "taken");
}

/**
 * A frame key of `sender`, wrapped, unwrapped by `receiver`: what a frame encrypted with it
 * decrypts to on the receiver's side.
 * @param {KeyAgreement} sender
 * @param {KeyAgreement} receiver
 */
async function frameKeyTravels(sender, receiver) {
  const frameKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, [
    "encrypt",
    "decrypt",
  ]);
  const wrapped = await sender.wrap(frameKey);
  const unwrapped = await receiver.unwrap(wrapped);
  const iv = new Uint8Array(12);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, frameKey, new Uint8Array([1, 2, 3]));
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, unwrapped, sealed));
}

describe("key agreement", () => {
  test("a public key is an uncompressed P-256 point, committed to with the fingerprint", async () => {
    const side = await KeyAgreement.create({ session: 1, role: "staff", fingerprint: STAFF_FINGERPRINT });
    const raw = fromBase64(side.publicKey);
    assert.equal(raw.length, 65);
    assert.equal(raw[0], 4);
    assert.equal(side.commitment, await commitmentFor(side.publicKey, STAFF_FINGERPRINT));
  });

  test("the public key goes out only after both commitments", async () => {
    const staff = await KeyAgreement.create({ session: 1, role: "staff", fingerprint: STAFF_FINGERPRINT });
    assert.equal(staff.keyToReveal(), null, "not committed yet");
    staff.commitSent = true;
    assert.equal(staff.keyToReveal(), null, "the other side has not committed");
    staff.takeCommitment("c29tZXRoaW5n");
    assert.equal(staff.keyToReveal(), staff.publicKey);
    assert.equal(staff.keyToReveal(), null, "once");
  });

  test("both sides derive the same wrapping key", async () => {
    const { staff, member } = await pair();
    reveal(staff, member);
    reveal(member, staff);
    await staff.derive(MEMBER_FINGERPRINT);
    await member.derive(STAFF_FINGERPRINT);
    assert.ok(staff.wrapKey && member.wrapKey);
    // A frame key wrapped by one side unwraps on the other, in both directions.
    assert.deepEqual(await frameKeyTravels(staff, member), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await frameKeyTravels(member, staff), new Uint8Array([1, 2, 3]));
  });

  test("a key wrapped by one side does not unwrap as the other side's (no reflection)", async () => {
    const { staff, member } = await pair();
    reveal(staff, member);
    reveal(member, staff);
    await staff.derive(MEMBER_FINGERPRINT);
    await member.derive(STAFF_FINGERPRINT);
    const frameKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    const wrapped = await staff.wrap(frameKey);
    await assert.rejects(staff.unwrap(wrapped), "its own key sent back to it");
  });

  test("another session derives another wrapping key", async () => {
    const first = await pair(1);
    reveal(first.staff, first.member);
    reveal(first.member, first.staff);
    await first.staff.derive(MEMBER_FINGERPRINT);
    // The member side of session 2 takes the very same keys (an impossible replay).
    const member = new KeyAgreement({ ...first.member, session: 2 });
    member.peerCommitment = first.staff.commitment;
    member.peerPublicKey = first.staff.publicKey;
    await member.derive(STAFF_FINGERPRINT);
    const frameKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    await assert.rejects(member.unwrap(await first.staff.wrap(frameKey)));
  });

  test("a key that does not match its commitment is refused", async () => {
    const { staff, member } = await pair();
    const intruder = await KeyAgreement.create({ session: 41, role: "member", fingerprint: MEMBER_FINGERPRINT });
    // The member committed to its own key; someone in between sends another.
    assert.equal(staff.takePublicKey(intruder.publicKey), "taken");
    await assert.rejects(staff.derive(MEMBER_FINGERPRINT), KeyAgreementError);
    assert.equal(staff.wrapKey, null);
    void member;
  });

  test("a fingerprint that does not match the commitment is refused", async () => {
    const { staff, member } = await pair();
    reveal(member, staff);
    await assert.rejects(staff.derive("sha-256 FF:FF:FF"), KeyAgreementError);
    await assert.rejects(staff.derive(""), KeyAgreementError, "no single fingerprint in the SDP");
    assert.equal(staff.wrapKey, null);
  });

  test("a second, different commitment or key is refused; the same again is not", async () => {
    const { staff, member } = await pair();
    assert.equal(staff.takeCommitment(member.commitment), "repeated");
    assert.throws(() => staff.takeCommitment("b3RoZXI="), KeyAgreementError);
    reveal(member, staff);
    assert.equal(staff.takePublicKey(member.publicKey), "repeated");
    const other = await KeyAgreement.create({ session: 41, role: "member", fingerprint: MEMBER_FINGERPRINT });
    assert.throws(() => staff.takePublicKey(other.publicKey), KeyAgreementError);
  });

  test("a key before its commitment is not taken", async () => {
    const staff = await KeyAgreement.create({ session: 1, role: "staff", fingerprint: STAFF_FINGERPRINT });
    const member = await KeyAgreement.create({ session: 1, role: "member", fingerprint: MEMBER_FINGERPRINT });
    assert.equal(staff.takePublicKey(member.publicKey), "not-committed");
    assert.equal(staff.peerPublicKey, null);
  });
});

describe("verification code", () => {
  test("both sides show the same code", async () => {
    const { staff, member } = await pair();
    reveal(staff, member);
    reveal(member, staff);
    await staff.derive(MEMBER_FINGERPRINT);
    await member.derive(STAFF_FINGERPRINT);
    const code = await staff.verificationCode();
    assert.match(code, /^\d{3} \d{3}$/);
    assert.equal(await member.verificationCode(), code);
  });

  test("different keys give a different code", async () => {
    const first = await pair();
    const second = await pair();
    const staff = { key: first.staff.publicKey, fingerprint: STAFF_FINGERPRINT };
    const member = { key: first.member.publicKey, fingerprint: MEMBER_FINGERPRINT };
    const code = await verificationCode({ staff, member });
    const otherMember = { key: second.member.publicKey, fingerprint: MEMBER_FINGERPRINT };
    const otherStaff = { key: second.staff.publicKey, fingerprint: STAFF_FINGERPRINT };
    assert.notEqual(await verificationCode({ staff, member: otherMember }), code);
    assert.notEqual(await verificationCode({ staff: otherStaff, member }), code);
    assert.notEqual(
      await verificationCode({ staff, member: { ...member, fingerprint: "sha-256 99:99" } }),
      code,
    );
  });

  test("the roles are not interchangeable", async () => {
    const { staff, member } = await pair();
    const a = { key: staff.publicKey, fingerprint: STAFF_FINGERPRINT };
    const b = { key: member.publicKey, fingerprint: MEMBER_FINGERPRINT };
    assert.notEqual(await verificationCode({ staff: a, member: b }), await verificationCode({ staff: b, member: a }));
  });

  test("the code is six digits from the first four bytes of the hash", async () => {
    const parties = { staff: { key: "a", fingerprint: "b" }, member: { key: "c", fingerprint: "d" } };
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode("treffpunkt code v1|a|c|b|d"),
    );
    const digits = String(new DataView(digest).getUint32(0) % 1_000_000).padStart(6, "0");
    assert.equal(await verificationCode(parties), `${digits.slice(0, 3)} ${digits.slice(3)}`);
  });
});
