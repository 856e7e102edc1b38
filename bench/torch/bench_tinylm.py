#!/usr/bin/python3
"""PyTorch baseline for the tinylm benchmarks (see tinylm/bench_test.go).

The same architecture and LoRA configuration as sia's Go tinylm, written by
hand so both sides do the same work:

  byte vocabulary 256, d_model 128, 4 pre-LN layers, 4 heads, MLP 512 with
  exact GELU, learned positional embeddings (context 128), untied head; all
  linear layers have biases; LayerNorm eps 1e-5.
  LoRA: rank 16, alpha 16 (scale 1) on q, k, v, o of every layer; A
  kaiming-uniform, B zero; the base is frozen (requires_grad=False).

Benchmarks (tokens per second of wall time, and per CPU-second of the
process, all threads together):
  lora_step  forward + mean next-token cross-entropy + backward + gradient
             clipping (norm 1) + AdamW(lr 1e-3, wd 0.01) on a 16x128 batch.
  sample     8 samples of 112 new tokens from a 16-token prompt at
             temperature 1 with a KV cache (prompt prefilled once, shared),
             returning the sampled tokens and their logprobs; counted as
             generated tokens per second.

Run with the best 2-core setting measured in
../shared/ref/cpu-training-benchmark.md:
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench_tinylm.py --threads 1
Prints one JSON object per benchmark.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, D, LAYERS, HEADS, MLP, CTX = 256, 128, 4, 4, 512, 128
RANK, ALPHA = 16, 16
BATCH, SEQ = 16, 128
PROMPT, SAMPLES, NEW = 16, 8, 112


class LoRALinear(nn.Module):
    def __init__(self, d_in, d_out, lora):
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)
        self.lora = lora
        if lora:
            self.A = nn.Parameter(torch.empty(RANK, d_in))
            nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            self.B = nn.Parameter(torch.zeros(d_out, RANK))
            self.scale = ALPHA / RANK

    def forward(self, x):
        y = self.base(x)
        if self.lora:
            y = y + (x @ self.A.t()) @ self.B.t() * self.scale
        return y


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.q = LoRALinear(D, D, True)
        self.k = LoRALinear(D, D, True)
        self.v = LoRALinear(D, D, True)
        self.o = LoRALinear(D, D, True)
        self.ln2 = nn.LayerNorm(D)
        self.up = LoRALinear(D, MLP, False)
        self.down = LoRALinear(MLP, D, False)

    def attn(self, h, cache=None, pos=None):
        B, T, _ = h.shape
        hd = D // HEADS
        q = self.q(h).view(B, T, HEADS, hd).transpose(1, 2)
        k = self.k(h).view(B, T, HEADS, hd).transpose(1, 2)
        v = self.v(h).view(B, T, HEADS, hd).transpose(1, 2)
        if cache is not None:  # decode: append to the cache, attend to all of it
            kc, vc = cache
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            k, v = kc[:, :, :pos + T], vc[:, :, :pos + T]
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if T > 1:
            L = k.shape[2]
            mask = torch.ones(T, L, dtype=torch.bool).triu(L - T + 1)
            s = s.masked_fill(mask, float("-inf"))
        p = torch.softmax(s, dim=-1)
        return self.o((p @ v).transpose(1, 2).reshape(B, T, D))

    def forward(self, x, cache=None, pos=None):
        x = x + self.attn(self.ln1(x), cache, pos)
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Embedding(CTX, D)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.lnf = nn.LayerNorm(D)
        self.head = nn.Linear(D, VOCAB)
        for p in [self.tok.weight, self.pos.weight, self.head.weight, self.head.bias]:
            p.requires_grad_(False)
        for b in self.blocks:
            for ln in (b.ln1, b.ln2):
                ln.weight.requires_grad_(False)
                ln.bias.requires_grad_(False)
        self.lnf.weight.requires_grad_(False)
        self.lnf.bias.requires_grad_(False)

    def forward(self, ids, caches=None, pos=0):
        T = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(pos, pos + T))
        for i, b in enumerate(self.blocks):
            x = b(x, None if caches is None else caches[i], pos)
        return self.head(self.lnf(x))


def bench_lora(model, steps, warmup):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(32, 127, (BATCH, SEQ), generator=g)
    params = [p for p in model.parameters() if p.requires_grad]
    assert sum(p.numel() for p in params) == LAYERS * 4 * 2 * RANK * D
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)

    def step():
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return BATCH * SEQ * steps / dt, BATCH * SEQ * steps / dc


@torch.inference_mode()
def sample(model, prompt, gen):
    hd = D // HEADS
    caches = [(torch.empty(1, HEADS, CTX, hd), torch.empty(1, HEADS, CTX, hd)) for _ in range(LAYERS)]
    logits = model(prompt.view(1, -1), caches, 0)[:, -1]  # prefill once
    caches = [(k.expand(SAMPLES, -1, -1, -1).clone(), v.expand(SAMPLES, -1, -1, -1).clone()) for k, v in caches]
    logits = logits.expand(SAMPLES, -1)
    toks, lps = [], []
    pos = PROMPT
    for i in range(NEW):
        logp = torch.log_softmax(logits, dim=-1)  # temperature 1
        tok = torch.multinomial(logp.exp(), 1, generator=gen)
        toks.append(tok)
        lps.append(logp.gather(1, tok))
        if i == NEW - 1:
            break
        logits = model(tok, caches, pos)[:, -1]
        pos += 1
    return torch.cat(toks, 1), torch.cat(lps, 1)


def bench_sample(model, reps, warmup):
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(32, 127, (PROMPT,), generator=g)
    for _ in range(warmup):
        sample(model, prompt, g)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        sample(model, prompt, g)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return SAMPLES * NEW * reps / dt, SAMPLES * NEW * reps / dc


# The products of a LoRA step and of sampling (m, k, n, A stored transposed),
# the same list as matmulShapes in tinylm/kernel_bench_test.go.
MATMUL_SHAPES = [
    (2048, 128, 128, False), (1024, 128, 128, False), (2048, 128, 512, False), (2048, 512, 128, False),
    (2048, 128, 256, False), (2048, 256, 128, False), (2048, 128, 16, False), (16, 1024, 128, True),
    (128, 1024, 128, True), (24, 32, 128, False), (24, 128, 32, False),
    (8, 128, 128, False), (8, 128, 512, False), (8, 512, 128, False), (8, 128, 256, False),
    (1, 128, 32, False), (128, 32, 1, False),
    (2048, 64, 264, False), (2048, 64, 64, False), (24, 128, 16, False),
]


def bench_matmul(min_time=0.2):
    """GFLOP/s of single products on the model's shapes, written into a
    preallocated output (torch.matmul(out=...)) as the Go kernel does; compare
    with go test ./tinylm -bench Matmul (bench/run.sh matmul runs both)."""
    for m, k, n, ta in MATMUL_SHAPES:
        a = torch.randn(k, m).t() if ta else torch.randn(m, k)
        b, out = torch.randn(k, n), torch.empty(m, n)
        for _ in range(5):
            torch.matmul(a, b, out=out)
        reps, dt = 10, 0.0
        while True:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(reps):
                torch.matmul(a, b, out=out)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if dt >= min_time:
                break
            reps *= 2
        name = f"{m}x{k}x{n}" + ("TA" if ta else "")
        flops = 2 * m * k * n * reps
        print(json.dumps({"impl": "pytorch", "bench": "matmul", "shape": name, "gflops": flops / dt / 1e9,
                          "gflops_cpu": flops / dc / 1e9 if dc > 0 else None}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--matmul", action="store_true", help="only time single matrix products")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--samples", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.matmul:
        bench_matmul()
        return
    torch.manual_seed(0)
    model = TinyLM()
    wall, cpu = bench_lora(model, args.steps, 3)
    print(json.dumps({"impl": "pytorch", "bench": "lora_step", "tok_per_s": wall, "tok_per_cpu_s": cpu,
                      "torch": torch.__version__, "threads": args.threads}))
    model.eval()
    wall, cpu = bench_sample(model, args.samples, 2)
    print(json.dumps({"impl": "pytorch", "bench": "sample", "tok_per_s": wall, "tok_per_cpu_s": cpu,
                      "torch": torch.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
