// @ts-check
// The call page itself: its configuration from the server (calls/views.py), its strings, its
// elements, and the two lines it speaks through (the polite status line and the alert).

/** @typedef {import("./key-agreement.js").Role} Role */

/**
 * @typedef {object} CallConfig
 * @property {string} socketPath
 * @property {Role} role
 * @property {string} otherName
 * @property {string} workerUrl
 * @property {boolean} testHooks
 * @property {boolean} plainMedia media without frame encryption (benchmarks only)
 * @property {Record<string, string>} strings
 */

/**
 * The element with this id, of this type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{new (): T}} type
 * @returns {T}
 */
export function find(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing`);
  return found;
}

/** @type {CallConfig} */
export const config = JSON.parse(find("call-config", HTMLScriptElement).textContent ?? "{}");
export const S = config.strings;

/**
 * The strings come from Django's catalogue in Python's format: %(name)s, and %% for a "%".
 * @param {string} text
 * @param {Record<string, string | number>} [values]
 */
export const fill = (text, values = {}) =>
  text.replace(/%\((\w+)\)s|%%/g, (match, name) => (name ? String(values[name] ?? "") : "%"));

/** @param {string} text */
export const withName = (text) => fill(text, { name: config.otherName });

export const ui = {
  status: find("call-status", HTMLElement),
  alert: find("call-alert", HTMLElement),
  prejoin: find("prejoin", HTMLElement),
  preview: find("preview-video", HTMLVideoElement),
  cameraSelect: find("camera-select", HTMLSelectElement),
  microphoneSelect: find("microphone-select", HTMLSelectElement),
  micLevel: find("mic-level", HTMLMeterElement),
  dialog: find("start-dialog", HTMLDialogElement),
  startButton: find("start-button", HTMLButtonElement),
  startLater: find("start-later", HTMLButtonElement),
  startWaiting: find("start-waiting", HTMLElement),
  startAgain: find("start-again", HTMLElement),
  startAgainButton: find("start-again-button", HTMLButtonElement),
  inCall: find("in-call", HTMLElement),
  remoteVideo: find("remote-video", HTMLVideoElement),
  localVideo: find("local-video", HTMLVideoElement),
  muteButton: find("mute-button", HTMLButtonElement),
  cameraButton: find("camera-button", HTMLButtonElement),
  shareButton: find("share-button", HTMLButtonElement),
  hangupButton: find("hangup-button", HTMLButtonElement),
  e2eeState: find("e2ee-state", HTMLElement),
  keyGeneration: find("key-generation", HTMLElement),
  verification: find("verification-code", HTMLElement),
  quality: find("connection-quality", HTMLElement),
  ended: find("call-ended", HTMLElement),
  endedText: find("ended-text", HTMLElement),
  unsupported: find("call-unsupported", HTMLElement),
};

/**
 * The status line (a polite live region).
 * @param {string} text
 */
export function say(text) {
  ui.status.textContent = text;
}

/**
 * The alert (role="alert"); "" hides it.
 * @param {string} text
 */
export function warn(text) {
  ui.alert.textContent = text;
  ui.alert.hidden = !text;
}

/** Wall-clock milliseconds, comparable between two pages of one machine (benchmarks). */
export const wallClock = () => performance.timeOrigin + performance.now();
