// The judge of generated digit glyphs: a LeNet-style CNN (src/models/image-classifier.ts) trained with Adam on
// fresh built-in glyphs drawn from seeds of its own (never the images a GAN trains on) and scored on held-out
// ones. It scores a set of generated images by
//   class coverage (src/eval/class-coverage.ts): the share it classifies with confidence > 0.9, how many of
//       the 10 digits those cover, and an Inception-Score-style number;
//   the Fréchet distance (src/eval/frechet-distance.ts) between its hidden features of the samples and of
//       1,000 fresh real glyphs — Heusel et al. 2017's FID with this CNN in place of Inception. Blobs the CNN
//       happens to be sure about still lie far from real digits in feature space.
// Browser-safe.
import { ImageClassifier, imageClassifierConfig } from '../models/image-classifier.js';
import { createOptimizer } from '../optim/registry.js';
import { Rng } from '../tensor/rng.js';
import { noGrad, Tensor } from '../tensor/tensor.js';
import { softmax } from '../tensor/nnops.js';
import { stepScope } from '../backend/storage.js';
import { glyphDataset, glyphImages } from '../data/glyphs.js';
import { classCoverage, type ClassCoverage } from '../eval/class-coverage.js';
import { frechetDistance } from '../eval/frechet-distance.js';
import { predictImages, accuracyOf, imageBatch } from './image-classification.js';

export interface GlyphJudgeOptions {
  /** image side (as the GAN's) */
  size: number;
  /** Adam steps of 32 images (default 600) */
  steps?: number;
  /** training images per digit (default 200) */
  perClass?: number;
  /** seed of the judge's glyphs and weights (default 9001, far from the GAN's data seeds) */
  seed?: number;
  /** pixel noise of the reference glyphs, as the GAN's training data (default glyphs.ts's 0.08); the judge
   *  itself always learns from noisy glyphs, which makes it robust to both */
  referenceNoise?: number;
}

export interface GlyphJudge {
  model: ImageClassifier;
  /** accuracy on 50 held-out glyphs per digit */
  accuracy: number;
  /** hidden features (1000, fc) of fresh real glyphs (with referenceNoise), the Fréchet distance's reference */
  reference: Float32Array;
}

/** A judge's verdict on a set of images: class coverage and the Fréchet distance to real glyphs. */
export interface GlyphScore extends ClassCoverage {
  frechet: number;
}

/** Trains the judge on glyphs of side `size` (≈ 600 small steps) and embeds its reference glyphs. */
export function trainGlyphJudge(o: GlyphJudgeOptions): GlyphJudge {
  const { size, steps = 600, perClass = 200, seed = 9001 } = o;
  const data = glyphDataset({ size, trainPerClass: perClass, testPerClass: 50, seed });
  const model = new ImageClassifier(imageClassifierConfig({ arch: 'cnn', height: size, width: size, classes: data.train.classes }), seed);
  const opt = createOptimizer('adam', [{ params: model.parameters(), weightDecay: 0 }], { lr: 3e-3, beta1: 0.9, beta2: 0.999 });
  const rng = new Rng(seed), n = data.train.labels.length;
  model.train();
  for (let s = 0; s < steps; s++) {
    stepScope(() => {
      const b = imageBatch(data.train, Array.from({ length: 32 }, () => rng.int(n)));
      model.loss(b.x, b.y).loss.backward();
      opt.update(3e-3 * (s < steps / 2 ? 1 : 0.1)); // a tenth of the rate for the second half
      opt.zeroGrad();
    });
  }
  model.eval();
  const { pred } = noGrad(() => predictImages(model, data.test));
  const reference = judgeImages(model, glyphImages(100, seed + 1, { size, ...(o.referenceNoise === undefined ? {} : { noise: o.referenceNoise }) }).images).features;
  return { model, accuracy: accuracyOf(pred, data.test.labels), reference };
}

/**
 * The judge's class probabilities (N, classes) and hidden features (N, fc) of N images (N·H·W values in
 * [0, 1]), in batches of 128. Throws when the values are not whole images of the judge's size.
 */
export function judgeImages(model: ImageClassifier, images: Float32Array): { probs: Float32Array; features: Float32Array } {
  const { height: H, width: W, classes, fc } = model.config, K = classes.length, px = H * W, N = images.length / px;
  if (!Number.isInteger(N)) throw new Error(`judge: ${images.length} values are not whole ${H}×${W} images`);
  const probs = new Float32Array(N * K), features = new Float32Array(N * fc);
  for (let i = 0; i < N; i += 128) {
    const m = Math.min(128, N - i);
    noGrad(() => stepScope(() => {
      const f = model.features(new Tensor(images.slice(i * px, (i + m) * px), [m, 1, H, W]));
      features.set(f.data, i * fc);
      probs.set(softmax(model.logitsFromFeatures(f)).data, i * K);
    }));
  }
  return { probs, features };
}

/** scores N images (N·H·W values in [0, 1]; N ≥ 2): class coverage at confidence 0.9 and the Fréchet distance */
export function scoreGlyphs(j: GlyphJudge, images: Float32Array): GlyphScore {
  const r = judgeImages(j.model, images);
  return { ...classCoverage(r.probs, j.model.config.classes.length), frechet: frechetDistance(r.features, j.reference, j.model.config.fc) };
}
