// A Module's weights as safetensors bytes and back — parameters and buffers (BatchNorm's running
// statistics) under their dotted state-dict names, float32 — for the vision and GAN run folders, whose
// config.json sits beside them. Browser-safe.
import type { Module } from '../nn/module.js';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsEntry } from '../formats/safetensors.js';

/** every state-dict tensor of `m` (optionally under `prefix`) as safetensors bytes */
export function moduleToSafetensors(modules: Record<string, Module> | Module): Uint8Array {
  const entries: Record<string, SafetensorsEntry> = {};
  const parts: [string, Module][] = 'stateDict' in modules ? [['', modules as Module]] : Object.entries(modules as Record<string, Module>).map(([k, m]) => [k + '.', m]);
  for (const [prefix, m] of parts) for (const [name, t] of m.stateDict()) entries[prefix + name] = { dtype: 'F32', shape: t.shape.slice(), data: t.data };
  return writeSafetensors(entries, { format: 'pt' });
}

/**
 * Loads safetensors bytes into `m` (the tensors under `prefix`, when given); throws naming `source` and the
 * tensor that is missing, unexpected or misshapen, or a non-finite weight.
 */
export function loadModuleSafetensors(m: Module, bytes: Uint8Array, source: string, prefix = ''): void {
  const file = readSafetensors(bytes, source), state = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of file.tensors) {
    if (!name.startsWith(prefix)) continue;
    const data = toFloat32(e);
    if (!data.every(Number.isFinite)) throw new Error(`${source}: tensor "${name}" holds a non-finite value`);
    state.set(name.slice(prefix.length), { shape: e.shape, data });
  }
  m.loadStateDict(state, source);
}
