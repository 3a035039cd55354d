// @ts-check
// Presence and the start window (P-CALL-2, P-CALL-3): who is on the page, the window that
// opens on both screens when both are, the press of "Gespräch starten", "not yet" and "start
// again". The server starts the call only after both presses.
import { S, config, say, ui, wallClock, withName } from "./page.js";

/** @typedef {import("./key-agreement.js").Role} Role */
/** @typedef {import("./peer-connection.js").CallStart} CallStart */

/**
 * Who is on the page and who has pressed "start".
 * @typedef {{member_here: boolean, staff_here: boolean, member_ready: boolean,
 *   staff_ready: boolean}} Presence
 */

const pressedKey = `treffpunkt-call-pressed:${config.socketPath}`;

export class StartWindow {
  /**
   * @param {object} options
   * @param {Role} options.role
   * @param {(frame: object) => void} options.send to the call socket
   * @param {() => boolean} options.inCall
   * @param {() => boolean} options.stopped the page has nothing more to start
   * @param {() => void} options.onPress the person pressed start (wake the audio, say)
   */
  constructor({ role, send, inCall, stopped, onPress }) {
    this.role = role;
    this.send = send;
    this.inCall = inCall;
    this.stopped = stopped;
    this.onPress = onPress;
    /** @type {Presence | null} */
    this.presence = null;
    this.pressed = false;
    this.dismissed = false;
    /** @type {number | null} */
    this.pressedAt = null;
    ui.startButton.addEventListener("click", () => this.press());
    ui.startLater.addEventListener("click", () => {
      this.dismissed = true;
      ui.dialog.close();
      ui.startAgain.hidden = false;
    });
    ui.startAgainButton.addEventListener("click", () => {
      this.dismissed = false;
      ui.startAgain.hidden = true;
      ui.ended.hidden = true;
      ui.prejoin.hidden = false;
      if (this.presence) this.show(this.presence);
      if (ui.dialog.open) this.press();
    });
  }

  /**
   * @returns {{mine: Role, theirs: Role}}
   * @private
   */
  get sides() {
    const mine = this.role === "member" ? "member" : "staff";
    const theirs = mine === "member" ? "staff" : "member";
    return { mine, theirs };
  }

  otherIsHere() {
    return this.presence?.[`${this.sides.theirs}_here`] ?? false;
  }

  /** @param {Presence} presence */
  show(presence) {
    this.presence = presence;
    const { mine, theirs } = this.sides;
    const otherHere = presence[`${theirs}_here`];
    const otherReady = presence[`${theirs}_ready`];
    const ownReady = presence[`${mine}_ready`];
    if (this.inCall()) {
      say(otherHere ? "" : withName(S.otherLeft));
      return;
    }
    if (this.stopped()) return;
    if (!otherHere) {
      if (ui.dialog.open) ui.dialog.close();
      ui.startAgain.hidden = true;
      this.pressed = false;
      say(withName(S.waitingForOther));
      return;
    }
    say(withName(S.otherHere));
    ui.startWaiting.textContent = ownReady
      ? S.waitingForPress
      : otherReady
        ? withName(S.otherReady)
        : "";
    ui.startButton.disabled = ownReady;
    if (this.dismissed) {
      ui.startAgain.hidden = false;
    } else if (!ui.dialog.open) {
      ui.dialog.showModal();
      ui.startButton.focus();
    }
  }

  press() {
    this.pressed = true;
    this.pressedAt = wallClock();
    ui.startButton.disabled = true;
    ui.startWaiting.textContent = S.waitingForPress;
    this.onPress();
    this.send({ type: "ready" });
  }

  /**
   * Whether this page may go into the call the server started. The page checks its own
   * press as well, so that nobody but this person can switch its camera into a call. After a
   * reload, the press this tab made for this very call counts.
   * @param {CallStart} start
   */
  mayEnter(start) {
    if (this.pressed) return true;
    return Boolean(start.resume) && sessionStorage.getItem(pressedKey) === String(start.session);
  }

  /**
   * The call runs, but this tab never joined it (a new tab, say): ask first. The press goes
   * to the server, which then hands the call to this page.
   */
  askToJoin() {
    this.dismissed = false;
    ui.startButton.disabled = false;
    ui.startWaiting.textContent = "";
    if (!ui.dialog.open) ui.dialog.showModal();
    ui.startButton.focus();
  }

  /** @param {CallStart} start the call this page is in now */
  entered(start) {
    sessionStorage.setItem(pressedKey, String(start.session));
    if (ui.dialog.open) ui.dialog.close();
    ui.startAgain.hidden = true;
  }

  /**
   * The call ended: both presses are cleared (on the server too).
   * @param {{final: boolean}} how final: no "start again"
   */
  ended({ final }) {
    this.pressed = false;
    sessionStorage.removeItem(pressedKey);
    if (this.presence) {
      this.presence = { ...this.presence, member_ready: false, staff_ready: false };
      ui.startButton.disabled = false;
      ui.startWaiting.textContent = "";
    }
    this.dismissed = true;
    ui.startAgain.hidden = final;
  }

  /** Nothing more to start on this page. */
  close() {
    if (ui.dialog.open) ui.dialog.close();
    ui.startAgain.hidden = true;
  }
}
