// ResNet's basic block (He et al. 2016, "Deep residual learning for image recognition", Fig. 2 and §3.3), with
// torchvision's BasicBlock names so that its state dicts load:
//   out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
// conv1 is 3×3 with the block's stride, conv2 3×3 stride 1, both without bias (the batch norm after each
// makes a bias redundant). The shortcut is the identity when shape is kept, else option B of the paper: a
// 1×1 convolution with the stride and a batch norm, named `downsample.0` and `downsample.1`.
import type { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { add, relu } from '../tensor/elementwise.js';
import { Conv2d } from './conv.js';
import { BatchNorm2d, BufferedModule } from './batchnorm.js';

/** the projection shortcut: 1×1 conv (stride s, no bias) then batch norm; torchvision's nn.Sequential indices */
export class Downsample extends BufferedModule {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    this.conv = this.child('0', new Conv2d(inPlanes, planes, 1, rng, { stride, bias: false }));
    this.bn = this.child('1', new BatchNorm2d(planes));
  }
  /** (N, in, H, W) → (N, planes, ⌈H/s⌉, ⌈W/s⌉) */
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}

/** torchvision.models.resnet.BasicBlock (expansion 1): (N, inPlanes, H, W) → (N, planes, ⌈H/s⌉, ⌈W/s⌉) */
export class BasicBlock extends BufferedModule {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | null;

  /** a projection shortcut is built when stride ≠ 1 or inPlanes ≠ planes */
  constructor(readonly inPlanes: number, readonly planes: number, rng: Rng, readonly stride = 1) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inPlanes, planes, 3, rng, { stride, padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm2d(planes));
    this.conv2 = this.child('conv2', new Conv2d(planes, planes, 3, rng, { padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inPlanes !== planes ? this.child('downsample', new Downsample(inPlanes, planes, stride, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inPlanes) {
      throw new Error(`BasicBlock: input must be (N, ${this.inPlanes}, H, W), got shape [${x.shape}]`);
    }
    const h = relu(this.bn1.forward(this.conv1.forward(x))); // (N, planes, Ho, Wo)
    const y = this.bn2.forward(this.conv2.forward(h));
    return relu(add(y, this.downsample ? this.downsample.forward(x) : x));
  }
}
