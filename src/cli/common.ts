// Options every compute command shares, and the one place that installs the kernel backend.
import type { OptTable, Parsed } from './args.js';
import { UsageError } from './args.js';

export const BACKEND_OPTS: OptTable = {
  backend: { type: 'string', default: 'auto', choices: ['auto', 'wasm', 'js', 'blas'], help: 'kernels: auto (default: blas where it loads, else wasm), wasm (WebAssembly SIMD), js (plain TypeScript reference) or blas (native OpenBLAS matmul; needs koffi and libopenblas)' },
  threads: { type: 'int', min: 1, max: 16, help: 'threads for the wasm and blas backends, 1–16 (default: all cores, at most 4)' },
};

export async function setupBackend(o: Parsed): Promise<string> {
  const name = o.backend as string;
  if (name !== 'auto' && name !== 'wasm' && name !== 'js' && name !== 'blas') throw new UsageError(`--backend must be auto, wasm, js or blas, got "${name}"`);
  const threads = o.threads as number | undefined;
  if (threads !== undefined && (threads < 1 || threads > 16)) throw new UsageError(`--threads must be between 1 and 16, got ${threads}`);
  const { initBackend } = await import('../backend/index.node.js');
  const b = await initBackend({ backend: name, threads });
  return `${b.name}${b.threads > 1 ? ` × ${b.threads} threads` : ''}`;
}

/** prints help and returns true when asked */
export function maybeHelp(o: { help?: boolean }, text: () => string): boolean {
  if (o.help) process.stdout.write(text() + '\n');
  return !!o.help;
}
