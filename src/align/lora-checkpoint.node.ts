// LoRA checkpoints moved to src/train/lora-checkpoint.node.ts (SFT uses them too); re-exported here for the alignment jobs.
export * from '../train/lora-checkpoint.node.js';
