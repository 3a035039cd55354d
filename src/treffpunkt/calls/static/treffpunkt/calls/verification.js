// @ts-check
// The verification code both people compare aloud (P-CALL-5): six digits from a hash over both
// public keys and both DTLS fingerprints, staff side first. Someone in between would have to
// make both sides see the same code with keys of their own: one chance in a million per try,
// and a commitment allows a single try per connection. No DOM (unit-tested under Node).
import { utf8 } from "./encoding.js";

/**
 * One side of the call as the code sees it.
 * @typedef {{key: string, fingerprint: string}} Party
 * key: the public ECDH key, base64; fingerprint: the DTLS certificate's ("sha-256 AB:CD:…")
 */

/**
 * The code, as "123 456".
 * @param {{staff: Party, member: Party}} parties
 */
export async function verificationCode({ staff, member }) {
  const text = ["treffpunkt code v1", staff.key, member.key, staff.fingerprint, member.fingerprint];
  const digest = await crypto.subtle.digest("SHA-256", utf8(text.join("|")));
  const number = new DataView(digest).getUint32(0) % 1_000_000;
  const digits = String(number).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
