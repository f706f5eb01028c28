"""
Make the PyTorch parity fixtures for gptlab's GPT.

Writes two files (float32, a few tens of KB each):
    test/fixtures/gpt_tiny_bias.safetensors     nanoGPT GPT with bias=True
    test/fixtures/gpt_tiny_nobias.safetensors   nanoGPT GPT with bias=False

Rerun (from the repository root; needs only PyTorch, e.g. Debian's python3-torch):
    /usr/bin/python3 scripts/make_gpt_fixture.py

The model below is Karpathy's nanoGPT model.py (github.com/karpathy/nanoGPT) reduced to what matters:
token + learned position embeddings, pre-LayerNorm blocks (LayerNorm with optional bias, eps 1e-5),
causal self-attention with a fused c_attn [3C, C] and c_proj [C, C], an MLP c_fc [4C, C] -> exact-erf
GELU -> c_proj [C, 4C], a final ln_f, and lm_head tied to wte. Dropout is 0. Parameter names are
nanoGPT's state-dict names; Linear weights are [out, in]. lm_head.weight is the same tensor as
transformer.wte.weight and is not stored separately.

Each file holds (all F32 unless noted):
    param.<name>           every parameter, the initial weights
    grad.<name>            its gradient after one forward/backward of the loss on (idx, targets);
                           grad.transformer.wte.weight includes the tied lm_head contribution
    idx, targets           I32 [B, T]; two targets are -1 (cross_entropy ignore_index=-1, as nanoGPT)
    logits                 [B, T, V] from that forward
and __metadata__ (strings):
    config                 JSON {n_layer, n_head, n_embd, block_size, vocab_size, bias}
    loss                   repr() of the first loss
    grad_norm_before_clip  repr() of the total L2 gradient norm at AdamW step 1, before clipping
    adamw_losses           JSON list: the loss before each of 10 AdamW steps on the same batch, starting
                           from the same initial weights; one step = zero_grad, forward, backward,
                           clip_grad_norm_(all params, 1.0), optimizer.step()
    adamw                  JSON: the hyperparameters and the weight-decay group rule (with member names)
    generator              this script and the torch version

The safetensors file is written with struct + json (no safetensors package), following the spec:
8-byte little-endian header length, JSON header padded with spaces to a multiple of 8, then the data.
"""

import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

N_LAYER, N_HEAD, N_EMBD, BLOCK_SIZE, VOCAB_SIZE = 2, 2, 16, 8, 13
B, T = 3, BLOCK_SIZE
ADAMW = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, steps=10, clip_grad_norm=1.0)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT: PyTorch's nn.LayerNorm has no bias=False option)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg['n_embd'] % cfg['n_head'] == 0
        self.c_attn = nn.Linear(cfg['n_embd'], 3 * cfg['n_embd'], bias=cfg['bias'])
        self.c_proj = nn.Linear(cfg['n_embd'], cfg['n_embd'], bias=cfg['bias'])
        self.n_head = cfg['n_head']
        self.n_embd = cfg['n_embd']
        bs = cfg['block_size']
        # a buffer, not a parameter: never in named_parameters()
        self.register_buffer('bias', torch.tril(torch.ones(bs, bs)).view(1, 1, bs, bs))

    def forward(self, x):
        Bx, Tx, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(Bx, Tx, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(Bx, Tx, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(Bx, Tx, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
        att = att.masked_fill(self.bias[:, :, :Tx, :Tx] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(Bx, Tx, C)  # (B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg['n_embd'], 4 * cfg['n_embd'], bias=cfg['bias'])
        self.gelu = nn.GELU()  # exact erf form, not the tanh approximation
        self.c_proj = nn.Linear(4 * cfg['n_embd'], cfg['n_embd'], bias=cfg['bias'])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = LayerNorm(cfg['n_embd'], bias=cfg['bias'])
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg['n_embd'], bias=cfg['bias'])
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg['vocab_size'], cfg['n_embd']),
            wpe=nn.Embedding(cfg['block_size'], cfg['n_embd']),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg['n_layer'])]),
            ln_f=LayerNorm(cfg['n_embd'], bias=cfg['bias']),
        ))
        self.lm_head = nn.Linear(cfg['n_embd'], cfg['vocab_size'], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):  # GPT-2's scaled init of residual projections
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg['n_layer']))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, C)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)  # (B, T, V)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


def perturb(model):
    """nanoGPT starts LayerNorms at (1, 0) and biases at 0; nudge them so their gradients are not trivial."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:  # every LayerNorm weight/bias and every Linear bias
                p.add_(torch.randn_like(p) * 0.1)


def decays(name):
    """The weight-decay rule: only the 2-D weights of the Linear layers inside the blocks."""
    return name.startswith('transformer.h.') and name.endswith('.weight') and (
        '.attn.c_attn.' in name or '.attn.c_proj.' in name or '.mlp.c_fc.' in name or '.mlp.c_proj.' in name)


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> (dtype string, contiguous CPU torch tensor). Layout per the safetensors spec."""
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    # widest dtype first, then by name, so every tensor is naturally aligned (as the reference writer does)
    width = {'F32': 4, 'I32': 4}
    for name in sorted(tensors, key=lambda n: (-width[tensors[n][0]], n)):
        dtype, t = tensors[name]
        want = {'F32': torch.float32, 'I32': torch.int32}[dtype]
        assert t.dtype == want, (name, t.dtype)
        flat = t.detach().reshape(-1).tolist()  # exact: float32 -> Python float -> float32 round-trips
        raw = struct.pack('<%d%s' % (len(flat), 'f' if dtype == 'F32' else 'i'), *flat)  # little-endian
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def make(bias):
    cfg = dict(n_layer=N_LAYER, n_head=N_HEAD, n_embd=N_EMBD, block_size=BLOCK_SIZE, vocab_size=VOCAB_SIZE, bias=bias)
    torch.manual_seed(0)
    model = GPT(cfg)
    perturb(model)
    model.train()  # dropout is absent anyway; train mode as in a training step
    idx = torch.randint(0, VOCAB_SIZE, (B, T))
    targets = torch.randint(0, VOCAB_SIZE, (B, T))
    targets[0, 3] = -1
    targets[2, 7] = -1

    named = list(model.named_parameters())  # tied lm_head.weight appears once, as transformer.wte.weight
    init = {n: p.detach().clone() for n, p in named}

    # First forward/backward: logits, loss and gradients.
    model.zero_grad(set_to_none=True)
    logits, loss = model(idx, targets)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in named}

    # 10 AdamW steps on the same batch, restarted from the same initial weights.
    with torch.no_grad():
        for n, p in named:
            p.copy_(init[n])
    decay = [p for n, p in named if decays(n)]
    no_decay = [p for n, p in named if not decays(n)]
    opt = torch.optim.AdamW(
        [{'params': decay, 'weight_decay': ADAMW['weight_decay']}, {'params': no_decay, 'weight_decay': 0.0}],
        lr=ADAMW['lr'], betas=ADAMW['betas'], eps=ADAMW['eps'])
    losses = []
    grad_norm = None
    for step in range(ADAMW['steps']):
        opt.zero_grad(set_to_none=True)
        _, l = model(idx, targets)
        l.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), ADAMW['clip_grad_norm'])
        if step == 0:
            grad_norm = norm.item()
        opt.step()
        losses.append(l.item())
    assert losses[0] == loss.item(), 'the AdamW run must start from the fixture weights'

    tensors = {}
    for n, _ in named:
        tensors['param.' + n] = ('F32', init[n])
        tensors['grad.' + n] = ('F32', grads[n])
    tensors['idx'] = ('I32', idx.to(torch.int32))
    tensors['targets'] = ('I32', targets.to(torch.int32))
    tensors['logits'] = ('F32', logits.detach())
    for name, (_, t) in tensors.items():
        assert t.dtype in (torch.float32, torch.int32), name  # float64 nowhere

    adamw = dict(lr=ADAMW['lr'], betas=list(ADAMW['betas']), eps=ADAMW['eps'], steps=ADAMW['steps'],
                 clip_grad_norm=ADAMW['clip_grad_norm'],
                 groups=[dict(weight_decay=ADAMW['weight_decay'],
                              rule='2-D weights of the Linear layers inside blocks: '
                                   'attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj',
                              params=[n for n, _ in named if decays(n)]),
                         dict(weight_decay=0.0, rule='everything else: embeddings, LayerNorms, biases',
                              params=[n for n, _ in named if not decays(n)])])
    metadata = {
        'config': json.dumps(cfg),
        'loss': repr(loss.item()),
        'grad_norm_before_clip': repr(grad_norm),
        'adamw_losses': json.dumps(losses),
        'adamw': json.dumps(adamw),
        'generator': 'scripts/make_gpt_fixture.py, torch ' + torch.__version__,
    }
    path = os.path.join(OUT_DIR, 'gpt_tiny_%s.safetensors' % ('bias' if bias else 'nobias'))
    write_safetensors(path, tensors, metadata)
    print('%s: %d bytes, loss %s, grad norm %s, adamw losses %s' % (
        os.path.relpath(path), os.path.getsize(path), metadata['loss'], metadata['grad_norm_before_clip'],
        ' '.join('%.4f' % x for x in losses)))


def main():
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)  # deterministic reductions
    os.makedirs(OUT_DIR, exist_ok=True)
    make(bias=True)
    make(bias=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
