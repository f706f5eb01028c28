// LoRA and freezing moved to src/train/adapt.ts (SFT uses them too); re-exported here for the alignment jobs.
export * from '../train/adapt.js';
