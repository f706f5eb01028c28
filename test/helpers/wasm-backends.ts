// The three wasm backends kernel tests run on: a plain memory, a shared one and a 2-thread team. Registers
// before/after hooks in the calling test file (the active backend is restored and the team disposed after).
import { after, before } from 'node:test';
import { WasmBackend } from '../../src/backend/wasm.js';
import { createThreadedWasmBackend } from '../../src/backend/threads.node.js';
import { backend, setBackend, type Backend } from '../../src/backend/backend.js';

/** [name, backend] pairs, filled once the file's `before` hook has run */
export function useWasmBackends(): [string, WasmBackend][] {
  const backends: [string, WasmBackend][] = [];
  let saved: Backend;
  before(async () => {
    saved = backend();
    backends.push(['plain', await WasmBackend.create()], ['shared', await WasmBackend.create({ shared: true })]);
    backends.push(['2 threads', await createThreadedWasmBackend(2)]);
  });
  after(() => {
    setBackend(saved);
    for (const [, b] of backends) b.dispose();
  });
  return backends;
}
