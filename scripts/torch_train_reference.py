# The PyTorch side of the training-quality target: nanoGPT's CPU config trained on a text file with the same
# recipe as `gptlab train` (char vocabulary, 90/10 split by position, random 12×64 windows, AdamW lr 1e-3 →
# 1e-4 cosine with 100 warmup steps, betas (0.9, 0.99), weight decay 0.1 on the Linear weights of blocks,
# clip 1.0, dev loss over 20 batches every 250 steps). Prints the dev-loss curve and wall time, so that the
# two runs can be compared in one session. Model: the same nanoGPT GPT as ../shared/bench/torch_nanogpt.py.
#
# usage: /usr/bin/python3 scripts/torch_train_reference.py ../shared/data/tinyshakespeare.txt [ITERS [SEED]]
# (OpenBLAS: OPENBLAS_CORETYPE=SkylakeX on AVX-512 machines; see torch_nanogpt.py's header.)
import math, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
import torch, torch.nn as nn, torch.nn.functional as F

path = sys.argv[1]
ITERS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
L, H, C, T, B = 4, 4, 128, 64, 12
torch.set_num_threads(1)
torch.manual_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1337)
text = open(path, encoding="utf-8").read()
chars = sorted(set(text))
V = len(chars)
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
train, dev = data[:n], data[n:]

class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with bias=False (torch 1.13's nn.LayerNorm always has a bias)"""
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
    def forward(self, x):
        return F.layer_norm(x, (C,), self.weight, None, 1e-5)

class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C, bias=False)
        self.c_proj = nn.Linear(C, C, bias=False)
    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = [z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v)]  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") else None
        if y is None:
            att = (q @ k.transpose(-2, -1)) / math.sqrt(c // H)
            mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
            y = att.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = LayerNorm(), LayerNorm()
        self.attn = Attention()
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C, bias=False), nn.Linear(4 * C, C, bias=False)
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))

class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = LayerNorm()
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for blk in self.h:
            x = blk(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))

model = GPT()
decay = [p for n_, p in model.named_parameters() if p.dim() == 2 and n_.startswith("h.")]
other = [p for n_, p in model.named_parameters() if not (p.dim() == 2 and n_.startswith("h."))]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))

def batch(split):
    ix = torch.randint(len(split) - T - 1, (B,))
    return torch.stack([split[i:i + T] for i in ix]), torch.stack([split[i + 1:i + T + 1] for i in ix])

def lr_at(it, warm=100, lr=1e-3, min_lr=1e-4):
    if it < warm:
        return lr * (it + 1) / (warm + 1)
    r = (it - warm) / (ITERS - warm)
    return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (lr - min_lr)

@torch.no_grad()
def estimate(split):
    model.eval()
    s = sum(model(*batch(split)).item() for _ in range(20)) / 20
    model.train()
    return s

t0 = time.time()
for it in range(1, ITERS + 1):
    for g in opt.param_groups:
        g["lr"] = lr_at(it - 1)
    loss = model(*batch(train))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if it % 250 == 0 or it == ITERS:
        print(f"step {it}: train loss {estimate(train):.4f}, dev loss {estimate(dev):.4f}, {time.time() - t0:.1f} s", flush=True)
@torch.no_grad()
def full_dev_loss():
    # every dev token once, in non-overlapping windows of T, as `gptlab eval` scores a text
    model.eval()
    nats, count = 0.0, 0
    for s in range(0, len(dev) - 1, T):
        t = min(T, len(dev) - 1 - s)
        x, y = dev[s:s + t].view(1, t), dev[s + 1:s + t + 1].view(1, t)
        nats += model(x, y).item() * t
        count += t
    return nats / count

print(f"pytorch {torch.__version__}: {ITERS} steps in {time.time() - t0:.1f} s; full dev set loss {full_dev_loss():.4f}")
