// @ts-check
// Bytes and text for the call's key messages: UTF-8 and base64. No DOM (btoa and atob are
// globals of browsers, workers and Node alike).

/** @param {string} text */
export function utf8(text) {
  return new TextEncoder().encode(text);
}

/** @param {ArrayBuffer | ArrayBufferView} bytes */
export function toBase64(bytes) {
  const view =
    bytes instanceof ArrayBuffer
      ? new Uint8Array(bytes)
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let binary = "";
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 * @throws {DOMException} on text that is no base64
 */
export function fromBase64(text) {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}
