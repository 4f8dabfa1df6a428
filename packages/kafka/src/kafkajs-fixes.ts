// The declaration travels with this file into every workspace that compiles it (an ambient module cannot be imported).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./kafkajs-internals.d.ts" />
// Fixes to kafkajs 2.2.4 (its last release) applied where the client is made, for every process that imports
// @chat/kafka. docs/kafka.md lists them with the upstream issues; each has a test in kafkajs-fixes.test.ts.
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs' own interval for re-checking a queue whose requests wait on the in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/**
 * tulios/kafkajs#1751: every broker connection's request queue re-armed a timer of `throttledUntil - Date.now()` ms
 * after each check, and with no throttle in force that is about minus the epoch, which Node clamps to 1 ms (Node 24
 * also prints a TimeoutNegativeWarning). The check then schedules the next one: from its first response on, each
 * connection woke its process about 800 times a second, idle or not, for its whole life. Here a check is scheduled
 * only while requests wait: at the throttle's end, or every 10 ms while the in-flight limit holds them (as before).
 * With none waiting nothing is lost: push() schedules a check when it queues a request, and every fulfilled request
 * checks the queue.
 */
RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS,
  );
};
