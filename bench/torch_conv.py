# PyTorch's side of `gptlab bench --only conv` (bench/conv.ts): median ms of one Conv2d forward + backward
# (F.conv2d, then y.backward(dy): the input's, the weight's and the bias's gradients) for each shape, on
# `threads` CPU threads, with PyTorch's default CPU path (oneDNN/mkldnn where the build has it).
# Usage: python bench/torch_conv.py SHAPES_JSON THREADS RUNS
#   SHAPES_JSON: [{"N":64,"C":1,"H":28,"W":28,"O":8,"k":5,"stride":1,"padding":2}, ...]
# Prints one line per shape: {"ms": median, "shape": index}, after a line {"torch": version, "mkldnn": bool}.
import json
import sys
import time

import torch
import torch.nn.functional as F


def time_shape(s, runs):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(s["N"], s["C"], s["H"], s["W"], generator=g, requires_grad=True)
    w = torch.randn(s["O"], s["C"], s["k"], s["k"], generator=g).mul_(0.1).requires_grad_()
    b = torch.randn(s["O"], generator=g, requires_grad=True)
    with torch.no_grad():
        dy = torch.randn_like(F.conv2d(x, w, b, stride=s["stride"], padding=s["padding"]))

    def step():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, stride=s["stride"], padding=s["padding"]).backward(dy)

    for _ in range(3):
        step()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return ms[runs // 2]


def main():
    shapes = json.loads(sys.argv[1])
    threads, runs = int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(), "threads": torch.get_num_threads()}))
    for i, s in enumerate(shapes):
        print(json.dumps({"shape": i, "ms": time_shape(s, runs)}), flush=True)


if __name__ == "__main__":
    main()
