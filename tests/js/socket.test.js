// @ts-check
// The pages' reconnecting socket (core/static/treffpunkt/socket.js) with a fake WebSocket.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ReconnectingSocket,
  pauseBefore,
  socketUrl,
} from "../../src/treffpunkt/core/static/treffpunkt/socket.js";
import { FakeTimers } from "./fake-timers.js";

class FakeSocket extends EventTarget {
  static OPEN = 1;
  /** @type {FakeSocket[]} */
  static made = [];

  /** @param {string} url */
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    /** @type {string[]} */
    this.sent = [];
    FakeSocket.made.push(this);
  }

  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  /** @param {object | string} frame */
  receive(frame) {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }

  /** @param {number} code */
  drop(code = 1006) {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code }));
  }

  /** @param {string} data */
  send(data) {
    this.sent.push(data);
  }

  close() {
    this.drop(1000);
  }
}

/** @param {Partial<import("../../src/treffpunkt/core/static/treffpunkt/socket.js").SocketOptions>} options */
function connect(options = {}) {
  FakeSocket.made = [];
  const timers = new FakeTimers();
  /** @type {any[]} */
  const events = [];
  /** @type {[number, boolean][]} */
  const closes = [];
  /** @type {boolean[]} */
  const opens = [];
  const socket = new ReconnectingSocket({
    url: "ws://example.test/ws/x/",
    onEvent: (event) => events.push(event),
    onOpen: ({ reconnected }) => opens.push(reconnected),
    onClose: (code, { final }) => closes.push([code, final]),
    WebSocket: /** @type {any} */ (FakeSocket),
    timers,
    ...options,
  });
  socket.start();
  const current = () => FakeSocket.made[FakeSocket.made.length - 1];
  return { socket, timers, events, closes, opens, current };
}

describe("reconnecting socket", () => {
  test("the pause doubles up to its limit", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((attempt) => pauseBefore(attempt)),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
    assert.equal(pauseBefore(10, 500, 15000), 15000);
  });

  test("the address has the page's host and scheme", () => {
    assert.equal(socketUrl("/ws/a/", { protocol: "https:", host: "h.test" }), "wss://h.test/ws/a/");
    assert.equal(socketUrl("/ws/a/", { protocol: "http:", host: "h:8000" }), "ws://h:8000/ws/a/");
  });

  test("frames arrive parsed; unreadable ones are skipped", () => {
    const { events, current } = connect();
    current().open();
    current().receive({ type: "hello", seq: 3 });
    const warn = console.warn;
    console.warn = () => {};
    try {
      current().receive("not json");
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(events, [{ type: "hello", seq: 3 }]);
  });

  test("sends only while open", () => {
    const { socket, current } = connect();
    assert.equal(socket.send({ type: "ping" }), false);
    current().open();
    assert.equal(socket.send({ type: "sync", after_seq: 4 }), true);
    assert.deepEqual(current().sent, ['{"type":"sync","after_seq":4}']);
  });

  test("pings on its timer while open, not after a close", () => {
    const { timers, current } = connect({ pingMs: 30_000 });
    current().open();
    timers.advance(90_000);
    assert.deepEqual(current().sent, Array(3).fill('{"type":"ping"}'));
    const first = current();
    first.drop();
    timers.advance(90_000 - 1);
    assert.equal(first.sent.length, 3);
  });

  test("after a drop it reconnects with growing pauses, and the first pause again once open", () => {
    const { timers, closes, opens, current } = connect();
    current().open();
    current().drop();
    assert.deepEqual(closes, [[1006, false]]);
    timers.advance(999);
    assert.equal(FakeSocket.made.length, 1);
    timers.advance(1);
    assert.equal(FakeSocket.made.length, 2);
    current().drop();
    timers.advance(2000);
    assert.equal(FakeSocket.made.length, 3);
    current().open();
    assert.deepEqual(opens, [false, true]);
    current().drop();
    timers.advance(1000);
    assert.equal(FakeSocket.made.length, 4);
  });

  test("after a final close code it stays closed", () => {
    const { timers, closes, current } = connect({ finalCodes: [4401, 4404] });
    current().open();
    current().drop(4404);
    assert.deepEqual(closes, [[4404, true]]);
    timers.advance(120_000);
    assert.equal(FakeSocket.made.length, 1);
  });

  test("stopped by the page: closed, no onClose, no reconnection", () => {
    const { socket, timers, closes, current } = connect();
    current().open();
    socket.stop();
    timers.advance(120_000);
    assert.deepEqual(closes, []);
    assert.equal(FakeSocket.made.length, 1);
    assert.equal(timers.count, 0);
  });
});
