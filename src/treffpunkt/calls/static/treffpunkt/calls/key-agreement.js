// @ts-check
// The key agreement of one peer connection (P-CALL-5). Each side makes an ECDH key pair and
// sends, through the server, first a commitment (a hash of its public key and its DTLS
// fingerprint), then — only once the other side has committed too — the key itself. Neither can
// pick a key to fit the other's. The other side's key and the fingerprint in its SDP must match
// its commitment; then both derive the same wrapping key (ECDH, then HKDF bound to the call
// session), under which the frame keys travel peer to peer (key-rotation.js).
//
// A fresh object for every peer connection: a rebuilt connection starts from nothing.
// No DOM (unit-tested under Node).
import { fromBase64, toBase64, utf8 } from "./encoding.js";
import { verificationCode } from "./verification.js";

/** @typedef {"staff" | "member"} Role */

const CURVE = { name: "ECDH", namedCurve: "P-256" };

/** The other side's key or commitment does not fit: the call must stop. */
export class KeyAgreementError extends Error {}

/**
 * What a side commits to: SHA-256 of "<public key, base64>|<DTLS fingerprint>", base64.
 * @param {string} publicKey
 * @param {string} fingerprint
 */
export async function commitmentFor(publicKey, fingerprint) {
  return toBase64(await crypto.subtle.digest("SHA-256", utf8(`${publicKey}|${fingerprint}`)));
}

/** @param {Role} role */
export function otherRole(role) {
  return role === "staff" ? "member" : "staff";
}

export class KeyAgreement {
  /**
   * A new key pair for one connection.
   * @param {{session: string | number, role: Role, fingerprint: string}} options
   *   fingerprint: this side's DTLS certificate, as fingerprintText() gives it
   */
  static async create({ session, role, fingerprint }) {
    const pair = /** @type {CryptoKeyPair} */ (
      await crypto.subtle.generateKey(CURVE, false, ["deriveBits"])
    );
    const publicKey = toBase64(await crypto.subtle.exportKey("raw", pair.publicKey));
    const commitment = await commitmentFor(publicKey, fingerprint);
    return new KeyAgreement({ session, role, fingerprint, pair, publicKey, commitment });
  }

  /**
   * Use KeyAgreement.create().
   * @param {{session: string | number, role: Role, fingerprint: string, pair: CryptoKeyPair,
   *   publicKey: string, commitment: string}} parts
   */
  constructor({ session, role, fingerprint, pair, publicKey, commitment }) {
    this.session = session;
    this.role = role;
    this.fingerprint = fingerprint;
    this.pair = pair;
    /** This side's public key, base64 (an uncompressed P-256 point). */
    this.publicKey = publicKey;
    /** This side's commitment, base64: sent first. */
    this.commitment = commitment;
    this.commitSent = false;
    this.publicSent = false;
    /** @type {string | null} */
    this.peerCommitment = null;
    /** @type {string | null} */
    this.peerPublicKey = null;
    this.peerFingerprint = "";
    /** @type {CryptoKey | null} the key the frame keys are wrapped under, once derived */
    this.wrapKey = null;
  }

  /**
   * The other side's commitment arrived. One per connection: a second, different one could
   * only come from someone trying keys until the codes match.
   * @param {string} hash
   * @returns {"taken" | "repeated"}
   * @throws {KeyAgreementError} for a second, different commitment
   */
  takeCommitment(hash) {
    if (this.peerCommitment === null) {
      this.peerCommitment = hash;
      return "taken";
    }
    if (this.peerCommitment !== hash) throw new KeyAgreementError("a second, different commitment");
    return "repeated";
  }

  /**
   * The other side's public key arrived.
   * @param {string} key base64
   * @returns {"taken" | "repeated" | "not-committed" | "unreadable"} a key before its
   *   commitment is not accepted
   * @throws {KeyAgreementError} for a second, different key
   */
  takePublicKey(key) {
    if (this.peerCommitment === null) return "not-committed";
    let canonical;
    try {
      canonical = toBase64(fromBase64(key));
    } catch {
      return "unreadable";
    }
    if (this.peerPublicKey !== null) {
      if (this.peerPublicKey !== canonical) throw new KeyAgreementError("a second public key");
      return "repeated";
    }
    this.peerPublicKey = canonical;
    return "taken";
  }

  /**
   * Our public key, if it may go out now (we committed, so did the other side, and it has not
   * gone yet); marks it as sent.
   * @returns {string | null}
   */
  keyToReveal() {
    if (!this.commitSent || this.peerCommitment === null || this.publicSent) return null;
    this.publicSent = true;
    return this.publicKey;
  }

  /** Whether the other side's key is here and the wrapping key not derived yet. */
  get canDerive() {
    return this.peerPublicKey !== null && this.wrapKey === null;
  }

  /**
   * Checks the other side's key and DTLS fingerprint against its commitment and derives the
   * wrapping key.
   * @param {string} peerFingerprint the one fingerprint of the remote SDP ("" if unclear)
   * @throws {KeyAgreementError} when they do not match the commitment
   */
  async derive(peerFingerprint) {
    if (this.peerPublicKey === null || this.peerCommitment === null) {
      throw new KeyAgreementError("the other side's key is not here yet");
    }
    const expected = await commitmentFor(this.peerPublicKey, peerFingerprint);
    if (!peerFingerprint || expected !== this.peerCommitment) {
      throw new KeyAgreementError("the other side's key does not match its commitment");
    }
    const peerKey = await crypto.subtle.importKey(
      "raw",
      fromBase64(this.peerPublicKey),
      CURVE,
      false,
      [],
    );
    const secret = await crypto.subtle.deriveBits(
      { name: "ECDH", public: peerKey },
      this.pair.privateKey,
      256,
    );
    const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
    this.wrapKey = await crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: utf8(`treffpunkt call ${this.session}`),
        info: utf8("frame key wrapping v1"),
      },
      hkdf,
      { name: "AES-GCM", length: 256 },
      false,
      ["wrapKey", "unwrapKey"],
    );
    this.peerFingerprint = peerFingerprint;
  }

  /** The verification code of this connection (after derive). */
  async verificationCode() {
    if (this.peerPublicKey === null) throw new KeyAgreementError("no key of the other side");
    const mine = { key: this.publicKey, fingerprint: this.fingerprint };
    const theirs = { key: this.peerPublicKey, fingerprint: this.peerFingerprint };
    return verificationCode(
      this.role === "staff" ? { staff: mine, member: theirs } : { staff: theirs, member: mine },
    );
  }

  /**
   * A frame key of ours, wrapped for the other side. The sender's role is authenticated with
   * it: a key cannot be reflected back to its sender.
   * @param {CryptoKey} frameKey an extractable AES-GCM key
   * @returns {Promise<{iv: string, key: string}>} base64
   */
  async wrap(frameKey) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const wrapped = await crypto.subtle.wrapKey("raw", frameKey, this.requireWrapKey(), {
      name: "AES-GCM",
      iv,
      additionalData: utf8(this.role),
    });
    return { iv: toBase64(iv), key: toBase64(wrapped) };
  }

  /**
   * A frame key of the other side, unwrapped (for decryption only, not extractable).
   * @param {{iv: string, key: string}} wrapped base64
   * @throws {DOMException} when it was not wrapped under this connection's key by the other side
   */
  async unwrap({ iv, key }) {
    return crypto.subtle.unwrapKey(
      "raw",
      fromBase64(key),
      this.requireWrapKey(),
      { name: "AES-GCM", iv: fromBase64(iv), additionalData: utf8(otherRole(this.role)) },
      { name: "AES-GCM" },
      false,
      ["decrypt"],
    );
  }

  /** @private */
  requireWrapKey() {
    if (this.wrapKey === null) throw new KeyAgreementError("no wrapping key yet");
    return this.wrapKey;
  }
}
