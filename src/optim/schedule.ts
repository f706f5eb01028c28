// Learning-rate schedules: step → learning rate. The trainer asks the schedule for each step's rate and hands
// it to the optimizer's update, so any optimizer runs under any schedule.

export type LrSchedule = (step: number) => number;

export interface CosineOptions {
  maxLr: number;
  minLr: number;
  /** linear warmup steps */
  warmup: number;
  /** the cosine reaches minLr here (nanoGPT's lr_decay_iters) */
  decaySteps: number;
}

/** nanoGPT's get_lr: linear warmup to maxLr, cosine decay to minLr at decaySteps, then minLr. */
export function cosineLr(step: number, o: CosineOptions): number {
  if (step < o.warmup) return (o.maxLr * (step + 1)) / (o.warmup + 1);
  if (step > o.decaySteps) return o.minLr;
  const ratio = (step - o.warmup) / Math.max(1, o.decaySteps - o.warmup);
  return o.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (o.maxLr - o.minLr);
}

/** the schedule form of cosineLr */
export function cosineSchedule(o: CosineOptions): LrSchedule {
  return (step) => cosineLr(step, o);
}

/** the same rate at every step */
export function constantSchedule(lr: number): LrSchedule {
  return () => lr;
}
