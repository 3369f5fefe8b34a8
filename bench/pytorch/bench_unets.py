"""The PyTorch eager peer of `diffuse bench-images`: the same two 28x28 U-Nets, the same training step
and the same sampling forward, timed the same way.

    python3 bench/pytorch/bench_unets.py --models default,seed-unet --precision fp32,bf16 [--channels-last]

Prints the matmul peak (2048^3, fp32 and bf16) and, per model and precision, the parameter count,
training images/s (batch 128, AdamW), sampling image*NFE/s (no-grad forward, batch 256), forward
GFLOP per image (torch's FlopCounterMode: convolutions, matrix products, attention) and the training
GFLOP/s (3x forward) as a share of the matmul peak -- the columns of bench-images.

Both networks are written out here from the project's model classes (model/SeedUNet.java and
model/UNet2DModel.java with UNet2DConfig.defaults): module for module, so the parameter counts
match (seed U-Net 2,996,315; default U-Net 716,801).

Setting up PyTorch 2.13 offline: the machine's wheel cache has torch only, and the interpreter's own
site-packages has its dependencies, so
    python3 -m venv --system-site-packages /tmp/venv
    /tmp/venv/bin/pip install --no-index --no-deps --find-links /opt/wheels torch
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.flop_counter


# ---------------------------------------------------------------------------- shared pieces

def sinusoid(t, dim, flip_sin_to_cos, freq_shift):
    """[sin(t f) | cos(t f)] (or cos first), f_i = exp(-ln(10000) i / (dim/2 - shift))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - freq_shift))
    arg = t.float().reshape(-1, 1) * freqs.reshape(1, -1)
    parts = [arg.cos(), arg.sin()] if flip_sin_to_cos else [arg.sin(), arg.cos()]
    return torch.cat(parts, dim=1)


# ---------------------------------------------------------------------------- the seed U-Net

class ConvNextBlock(nn.Module):
    """7x7 depthwise conv (+ time), GroupNorm(1), 3x3 conv x mult, GELU, GroupNorm(1), 3x3 conv, + 1x1 residual."""

    def __init__(self, cin, cout, time_dim, mult):
        super().__init__()
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(time_dim, cin)) if time_dim else None
        self.ds_conv = nn.Conv2d(cin, cin, 7, padding=3, groups=cin)
        self.net = nn.Sequential(nn.GroupNorm(1, cin), nn.Conv2d(cin, cout * mult, 3, padding=1), nn.GELU(),
                                 nn.GroupNorm(1, cout * mult), nn.Conv2d(cout * mult, cout, 3, padding=1))
        self.res_conv = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb=None):
        h = self.ds_conv(x)
        if self.mlp is not None:
            h = h + self.mlp(emb)[:, :, None, None]
        return self.net(h) + self.res_conv(x)


class ConvAttention(nn.Module):
    """1x1-conv projections; full softmax attention, or linear attention (Shen et al. 2021) + GroupNorm(1)."""

    def __init__(self, dim, heads, head_dim, linear):
        super().__init__()
        self.heads, self.head_dim, self.linear = heads, head_dim, linear
        hidden = heads * head_dim
        self.to_qkv = nn.Conv2d(dim, 3 * hidden, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden, dim, 1), nn.GroupNorm(1, dim)) if linear else nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        b, _, h, w = x.shape
        q, k, v = self.to_qkv(x).reshape(b, 3, self.heads, self.head_dim, h * w).unbind(1)   # [B, heads, d, N]
        if self.linear:
            q = q.softmax(dim=2) * self.head_dim ** -0.5
            k = k.softmax(dim=3)
            context = k @ v.transpose(2, 3)                # [B, heads, d, e]
            out = context.transpose(2, 3) @ q              # [B, heads, e, N]
        else:
            out = F.scaled_dot_product_attention(q.transpose(2, 3), k.transpose(2, 3), v.transpose(2, 3)).transpose(2, 3)
        return self.to_out(out.reshape(b, -1, h, w))


class PreNormResidual(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.fn = fn
        self.norm = nn.GroupNorm(1, dim)

    def forward(self, x):
        return self.fn(self.norm(x)) + x


class SeedUNet(nn.Module):
    """dim 28, mults 1, 2, 4, ConvNeXt mult 2, 4 heads of 32: 2,996,315 parameters at one channel."""

    def __init__(self, channels=1, dim=28, mults=(1, 2, 4), convnext_mult=2, heads=4, head_dim=32):
        super().__init__()
        self.dim = dim
        time_dim = 4 * dim
        dims = [dim // 3 * 2] + [dim * m for m in mults]
        levels = len(dims) - 1
        self.init_conv = nn.Conv2d(channels, dims[0], 7, padding=3)
        self.time_mlp = nn.Sequential(nn.Linear(dim, time_dim), nn.GELU(), nn.Linear(time_dim, time_dim))
        self.downs = nn.ModuleList()
        for i in range(levels):
            cin, cout = dims[i], dims[i + 1]
            self.downs.append(nn.ModuleList([
                ConvNextBlock(cin, cout, time_dim, convnext_mult), ConvNextBlock(cout, cout, time_dim, convnext_mult),
                PreNormResidual(cout, ConvAttention(cout, heads, head_dim, True)),
                nn.Conv2d(cout, cout, 4, 2, 1) if i < levels - 1 else nn.Identity()]))
        mid = dims[-1]
        self.mid_block1 = ConvNextBlock(mid, mid, time_dim, convnext_mult)
        self.mid_attn = PreNormResidual(mid, ConvAttention(mid, heads, head_dim, False))
        self.mid_block2 = ConvNextBlock(mid, mid, time_dim, convnext_mult)
        self.ups = nn.ModuleList()
        for i in range(levels - 1, 0, -1):
            cin, cout = dims[i], dims[i + 1]
            self.ups.append(nn.ModuleList([
                ConvNextBlock(2 * cout, cin, time_dim, convnext_mult), ConvNextBlock(cin, cin, time_dim, convnext_mult),
                PreNormResidual(cin, ConvAttention(cin, heads, head_dim, True)), nn.ConvTranspose2d(cin, cin, 4, 2, 1)]))
        self.final_conv = nn.Sequential(ConvNextBlock(dim, dim, None, convnext_mult), nn.Conv2d(dim, channels, 1))

    def forward(self, x, t):
        emb = self.time_mlp(sinusoid(t, self.dim, False, 1))
        h = self.init_conv(x)
        skips = []
        for block1, block2, attn, down in self.downs:
            h = attn(block2(block1(h, emb), emb))
            skips.append(h)
            h = down(h)
        h = self.mid_block2(self.mid_attn(self.mid_block1(h, emb)), emb)
        for block1, block2, attn, up in self.ups:
            h = up(attn(block2(block1(torch.cat([h, skips.pop()], dim=1), emb), emb)))
        # as in the seed, the finest level's skip is not used on the way up
        return self.final_conv[1](self.final_conv[0](h))


# ---------------------------------------------------------------------------- the default U-Net

class ResnetBlock2D(nn.Module):
    """conv1(silu(norm1 x)); norm2(h)(1 + scale) + shift from the time embedding; conv2(silu(.)); + shortcut."""

    def __init__(self, cin, cout, temb, groups, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.time_emb_proj(F.silu(temb))[:, :, None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Attention(nn.Module):
    """Residual self-attention over the pixels with Linear projections (diffusers' Attention)."""

    def __init__(self, channels, head_dim, groups, eps=1e-5):
        super().__init__()
        self.heads = channels // head_dim
        self.group_norm = nn.GroupNorm(groups, channels, eps) if groups > 0 else None
        self.to_q, self.to_k, self.to_v = (nn.Linear(channels, channels) for _ in range(3))
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = x if self.group_norm is None else self.group_norm(x)
        h = h.view(b, c, hh * ww).transpose(1, 2)
        q, k, v = (p(h).view(b, -1, self.heads, c // self.heads).transpose(1, 2) for p in (self.to_q, self.to_k, self.to_v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, hh * ww, c)
        return self.to_out[0](a).transpose(1, 2).reshape(b, c, hh, ww) + x


class DefaultUNet(nn.Module):
    """UNet2DConfig.defaults(1, 28): levels 16, 32, 64, one resnet per level, attention at 64 and in the
    middle (un-normalised there under scale-shift), 8 groups, SiLU, flip_sin_to_cos, freq_shift 0."""

    def __init__(self, channels=1, widths=(16, 32, 64), head_dim=32, groups=8):
        super().__init__()
        temb = 4 * widths[0]
        self.widths = widths
        self.time_embedding = nn.ModuleDict({"linear_1": nn.Linear(widths[0], temb), "linear_2": nn.Linear(temb, temb)})
        self.conv_in = nn.Conv2d(channels, widths[0], 3, padding=1)
        levels = len(widths)
        self.down = nn.ModuleList()
        out = widths[0]
        for i, w in enumerate(widths):
            cin, out = out, w
            self.down.append(nn.ModuleDict({
                "resnet": ResnetBlock2D(cin, out, temb, groups),
                "attn": Attention(out, head_dim, groups) if i == levels - 1 else nn.Identity(),
                "down": nn.Conv2d(out, out, 3, 2, 1) if i < levels - 1 else nn.Identity()}))
        mid = widths[-1]
        self.mid = nn.ModuleList([ResnetBlock2D(mid, mid, temb, groups), Attention(mid, head_dim, 0), ResnetBlock2D(mid, mid, temb, groups)])
        rev = list(reversed(widths))
        self.up = nn.ModuleList()
        out = rev[0]
        for i in range(levels):
            prev, out = out, rev[i]
            cin = rev[min(i + 1, levels - 1)]
            resnets = nn.ModuleList([ResnetBlock2D((prev if j == 0 else out) + (cin if j == 1 else out), out, temb, groups) for j in range(2)])
            attns = nn.ModuleList([Attention(out, head_dim, groups) if i == 0 else nn.Identity() for _ in range(2)])
            self.up.append(nn.ModuleDict({"resnets": resnets, "attns": attns,
                                          "up": nn.Conv2d(out, out, 3, padding=1) if i < levels - 1 else nn.Identity()}))
        self.conv_norm_out = nn.GroupNorm(groups, widths[0])
        self.conv_out = nn.Conv2d(widths[0], channels, 3, padding=1)

    def forward(self, x, t):
        e = sinusoid(t, self.widths[0], True, 0)
        emb = self.time_embedding["linear_2"](F.silu(self.time_embedding["linear_1"](e)))
        h = self.conv_in(x)
        skips = [h]
        for i, blk in enumerate(self.down):
            h = blk["attn"](blk["resnet"](h, emb))
            skips.append(h)
            if i < len(self.down) - 1:
                h = blk["down"](h)
                skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
        for i, blk in enumerate(self.up):
            for resnet, attn in zip(blk["resnets"], blk["attns"]):
                h = attn(resnet(torch.cat([h, skips.pop()], dim=1), emb))
            if i < len(self.up) - 1:
                h = blk["up"](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# ---------------------------------------------------------------------------- measuring

def linear_alpha_bar(steps):
    """Linear beta 1e-4 .. 0.02 over `steps` steps (the project's BetaSchedule.LINEAR), cumulative product of 1 - beta."""
    betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float()


def matmul_gflops(dtype, n=2048):
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    rates = []
    with torch.inference_mode():
        for i in range(6):
            t0 = time.perf_counter()
            (a @ b).sum().item()
            if i > 0:
                rates.append(2.0 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def measure(name, precision, args):
    torch.manual_seed(1)
    net = SeedUNet() if name == "seed-unet" else DefaultUNet()
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    params = sum(p.numel() for p in net.parameters())
    steps = 200 if name == "seed-unet" else 1000
    alpha_bar = linear_alpha_bar(steps)
    loss_fn = (lambda out, target: F.huber_loss(out, target, delta=1.0)) if name == "seed-unet" else F.mse_loss
    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    times = []
    for i in range(args.iters + 2):
        x0 = (torch.rand(args.batch, 1, 28, 28) * 2 - 1).contiguous(memory_format=fmt)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        with autocast():
            t = torch.randint(0, steps, (args.batch,))
            noise = torch.randn_like(x0)
            ab = alpha_bar[t].reshape(-1, 1, 1, 1)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
            out = net(xt, t.float())
            loss = loss_fn(out.float(), noise)
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    train = args.batch / statistics.median(times)

    net.eval()
    with torch.inference_mode():
        # two images: at batch 1 libtorch tries NNPACK, which cannot start on some CPUs and warns on every layer
        with torch.utils.flop_counter.FlopCounterMode(display=False) as counter:
            net(torch.randn(2, 1, 28, 28).contiguous(memory_format=fmt), torch.full((2,), 500.0))
        flops = counter.get_total_flops() / 2
        times = []
        for i in range(max(3, args.iters // 2) + 1):
            x = torch.randn(args.sample_batch, 1, 28, 28).contiguous(memory_format=fmt)
            t = torch.full((args.sample_batch,), 500.0)
            t0 = time.perf_counter()
            with autocast():
                net(x, t).sum().item()
            if i > 0:
                times.append(time.perf_counter() - t0)
    sample = args.sample_batch / statistics.median(times)
    return {"parameters": params, "train_images_per_s": train, "sample_image_nfe_per_s": sample,
            "forward_gflop_per_image": flops / 1e9, "train_gflops_per_s": 3.0 * flops * train / 1e9}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="default,seed-unet")
    p.add_argument("--precision", default="fp32,bf16")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--sample-batch", type=int, default=256)
    p.add_argument("--iters", type=int, default=8)
    p.add_argument("--channels-last", action="store_true", help="activations and weights in channels-last (NHWC) layout")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {torch.backends.mkldnn.is_available() and 'oneDNN'}"
          f", {'channels-last' if args.channels_last else 'contiguous (NCHW)'}")
    peak32, peak16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"matmul peak (median of 5): fp32 {peak32:.1f} GFLOP/s, bf16 {peak16:.1f} GFLOP/s")
    print(f"{'model':<10} {'prec':<5} {'params':>10} {'train img/s':>12} {'sample i*NFE/s':>14} {'GFLOP/img':>10} {'GFLOP/s':>9} {'of peak':>8}")
    figures = {"matmul_fp32_gflops": peak32, "matmul_bf16_gflops": peak16}
    for model in args.models.split(","):
        for precision in args.precision.split(","):
            r = measure(model, precision, args)
            peak = peak16 if precision == "bf16" else peak32
            print(f"{model:<10} {precision:<5} {r['parameters']:>10} {r['train_images_per_s']:>12.1f} {r['sample_image_nfe_per_s']:>14.1f}"
                  f" {r['forward_gflop_per_image']:>10.3f} {r['train_gflops_per_s']:>9.1f} {100 * r['train_gflops_per_s'] / peak:>7.0f}%",
                  flush=True)
            figures[f"{model}_{precision}"] = r
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
