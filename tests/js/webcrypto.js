// @ts-check
// WebCrypto as the global `crypto`, as in browsers: Node 20 has it; Node 18 (Debian 12's) only
// as node:crypto's `webcrypto`. Imported first by the tests that use it.
import { webcrypto } from "node:crypto";

if (globalThis.crypto === undefined) {
  Object.defineProperty(globalThis, "crypto", { value: webcrypto, configurable: true });
}
