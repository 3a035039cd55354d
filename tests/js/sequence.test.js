// @ts-check
// The gap logic of the live streams (core/static/treffpunkt/sequence.js): what is applied, what
// is ignored, and when the page asks for a sync.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  GRACE_MS,
  SequenceTracker,
  isSeq,
  parseSeq,
} from "../../src/treffpunkt/core/static/treffpunkt/sequence.js";
import { FakeTimers } from "./fake-timers.js";

/**
 * @param {unknown} initial
 * @param {{adopt?: boolean}} [options]
 */
function tracker(initial, options = {}) {
  const timers = new FakeTimers();
  /** @type {number[]} */
  const syncs = [];
  const sequence = new SequenceTracker({
    initial,
    requestSync: (afterSeq) => syncs.push(afterSeq),
    timers,
    ...options,
  });
  return { sequence, timers, syncs };
}

describe("sequence numbers", () => {
  test("the next number is applied and moves lastSeq on", () => {
    const { sequence, timers, syncs } = tracker(5);
    assert.equal(sequence.accept(6), true);
    assert.equal(sequence.accept(7), true);
    assert.equal(sequence.lastSeq, 7);
    timers.advance(10 * GRACE_MS);
    assert.deepEqual(syncs, []);
  });

  test("a number at or below lastSeq is ignored", () => {
    const { sequence } = tracker(5);
    assert.equal(sequence.accept(5), false);
    assert.equal(sequence.accept(3), false);
    assert.equal(sequence.accept(0), false);
    assert.equal(sequence.lastSeq, 5);
  });

  test("an event above a gap is applied once, and lastSeq stays below the gap", () => {
    const { sequence } = tracker(5);
    assert.equal(sequence.accept(8), true);
    assert.equal(sequence.lastSeq, 5);
    assert.equal(sequence.accept(8), false, "a repeat of an event above the gap");
    assert.equal(sequence.behind, true);
  });

  test("events that overtook each other close the gap within the grace: no sync", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.accept(7);
    sequence.accept(8);
    timers.advance(GRACE_MS - 50);
    sequence.accept(6);
    assert.equal(sequence.lastSeq, 8, "past the events applied above the gap");
    assert.equal(sequence.behind, false);
    timers.advance(10 * GRACE_MS);
    assert.deepEqual(syncs, []);
  });

  test("a gap that lasts past the grace asks for a sync after lastSeq, once", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.accept(7);
    timers.advance(GRACE_MS - 1);
    assert.deepEqual(syncs, []);
    timers.advance(1);
    assert.deepEqual(syncs, [5]);
    sequence.accept(9); // another gap while the sync is on its way
    timers.advance(5 * GRACE_MS);
    assert.deepEqual(syncs, [5], "one sync at a time");
  });

  test("the sync's answer sets lastSeq; missed events in it are applied", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.accept(8);
    timers.advance(GRACE_MS);
    assert.deepEqual(syncs, [5]);
    // The server sends the missed messages (6; 7 was a status change), then the state.
    assert.equal(sequence.accept(6), true);
    assert.equal(sequence.accept(8), false, "already applied");
    sequence.synced(8);
    assert.equal(sequence.lastSeq, 8);
    assert.equal(sequence.behind, false);
    assert.equal(sequence.ahead.size, 0);
    assert.equal(timers.count, 0, "no timer left");
  });

  test("events that arrive during the sync and after its number are kept", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.accept(7);
    timers.advance(GRACE_MS);
    sequence.accept(9); // live, newer than the sync's answer
    sequence.synced(7);
    assert.equal(sequence.lastSeq, 7);
    assert.equal(sequence.behind, true, "8 is still missing");
    sequence.accept(8);
    assert.equal(sequence.lastSeq, 9);
    assert.deepEqual(syncs, [5]);
  });

  test("a sync whose answer never comes allows another after a while", () => {
    const { sequence, timers, syncs } = tracker(5, {});
    sequence.accept(7);
    timers.advance(GRACE_MS);
    assert.deepEqual(syncs, [5]);
    timers.advance(sequence.answerTimeoutMs + GRACE_MS);
    assert.deepEqual(syncs, [5, 5]);
  });

  test("hello above lastSeq syncs at once; hello at lastSeq does not", () => {
    const behind = tracker(5);
    behind.sequence.hello(9);
    assert.deepEqual(behind.syncs, [5]);
    const current = tracker(5);
    current.sequence.hello(5);
    current.timers.advance(10 * GRACE_MS);
    assert.deepEqual(current.syncs, []);
  });

  test("after a reconnection the page always syncs, and a sync of the old socket is forgotten", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.accept(7);
    timers.advance(GRACE_MS);
    assert.deepEqual(syncs, [5]);
    sequence.disconnected();
    sequence.hello(5, { reconnected: true });
    assert.deepEqual(syncs, [5, 5]);
  });

  test("pong above lastSeq syncs after the grace unless the events arrive", () => {
    const { sequence, timers, syncs } = tracker(5);
    sequence.current(6);
    sequence.accept(6); // it was on its way
    timers.advance(GRACE_MS);
    assert.deepEqual(syncs, []);
    sequence.current(8);
    timers.advance(GRACE_MS);
    assert.deepEqual(syncs, [6]);
    sequence.synced(8);
    assert.equal(sequence.lastSeq, 8);
  });

  test("events without a number are always applied", () => {
    const { sequence } = tracker(5);
    assert.equal(sequence.accept(undefined), true);
    assert.equal(sequence.accept(null), true);
    assert.equal(sequence.accept("7"), true);
    assert.equal(sequence.lastSeq, 5);
  });

  test("without a starting number the first hello sets it", () => {
    const { sequence, syncs } = tracker(undefined);
    assert.equal(sequence.accept(3), true);
    sequence.hello(4);
    assert.equal(sequence.lastSeq, 4);
    assert.deepEqual(syncs, []);
    assert.equal(sequence.accept(4), false);
    assert.equal(sequence.accept(5), true);
  });

  test("without a starting number and without adopting, nothing is tracked", () => {
    const { sequence, timers, syncs } = tracker(undefined, { adopt: false });
    sequence.hello(4);
    sequence.current(9);
    assert.equal(sequence.lastSeq, null);
    assert.equal(sequence.accept(2), true);
    assert.equal(sequence.accept(2), true);
    sequence.synced(10);
    timers.advance(10 * GRACE_MS);
    assert.deepEqual(syncs, []);
  });

  test("numbers from attributes and JSON", () => {
    assert.equal(parseSeq("12"), 12);
    assert.equal(parseSeq(" 0 "), 0);
    assert.equal(parseSeq(12), 12);
    assert.equal(parseSeq(""), null);
    assert.equal(parseSeq("1e3"), null);
    assert.equal(parseSeq(-1), null);
    assert.equal(parseSeq(undefined), null);
    assert.equal(isSeq(1.5), false);
  });
});
