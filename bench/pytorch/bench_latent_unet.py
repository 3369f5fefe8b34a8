"""The PyTorch eager peer of `diffuse bench-latent`: diffusers' own UNet2DConditionModel, built from the same
config, the same training step and the same no-grad forward, timed the same way.

    diffuse bench-latent --channels 64,128,192 --json | tail -1 > /tmp/latent.json
    python3 bench/pytorch/bench_latent_unet.py --config /tmp/latent.json --precision fp32,bf16 --batch 64

--config takes that JSON line, a run of `diffuse train --text --model unet2d-condition` (its newest checkpoint's
U-Net section) or a diffusers unet/ folder or config.json. The step is the trainer's ε-prediction objective on
N(0, I) latents: t uniform on the 1,000 steps of the linear β schedule, x_t = sqrt(ᾱ_t) z + sqrt(1 - ᾱ_t) ε, the
U-Net reading a random prompt context [B, tokens, cross_attention_dim] through cross-attention, L2 against ε
(in float32), backward, AdamW(lr 1e-4). The frozen text encoder is not part of it. Prints, per precision, the
parameter count, training images/s and sampling image*NFE/s (medians over --iters after warm-up).

Setup, offline: see bench/pytorch/diffusers_src.py.
"""

import argparse
import contextlib
import glob
import json
import os
import statistics
import time

from diffusers_src import DEFAULT_SRC, import_diffusers

TIMESTEPS = 1000


def read_config(path):
    """(U-Net config, prompt tokens) from a bench-latent JSON line, a run directory or a diffusers unet config."""
    tokens = 77
    if os.path.isdir(path):
        checkpoints = sorted(glob.glob(os.path.join(path, "checkpoint-*", "config.json")))
        if checkpoints:
            path = checkpoints[-1]
        elif os.path.isfile(os.path.join(path, "unet", "config.json")):
            path = os.path.join(path, "unet", "config.json")
        else:
            path = os.path.join(path, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    if "results" in cfg:                         # diffuse bench-latent --json
        tokens, cfg = cfg["tokens"], cfg["config"]
    elif "model" in cfg:                         # a checkpoint's config.json
        tokens, cfg = cfg["model"]["text_encoder"]["max_position_embeddings"], cfg["model"]["unet"]
    return {k: v for k, v in cfg.items() if not k.startswith("_") and v is not None}, tokens


def measure(unet_class, config, tokens, precision, args):
    import torch
    torch.manual_seed(1)
    unet = unet_class(**config)
    params = sum(p.numel() for p in unet.parameters())
    side, channels, width = config["sample_size"], config["in_channels"], config["cross_attention_dim"]
    alpha_bar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, TIMESTEPS, dtype=torch.float64), 0)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()

    opt = torch.optim.AdamW(unet.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    steps = []
    for i in range(args.iters + 2):
        z0 = torch.randn(args.batch, channels, side, side)
        context = torch.randn(args.batch, tokens, width)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        t = torch.randint(0, TIMESTEPS, (args.batch,))
        eps = torch.randn_like(z0)
        a = alpha_bar[t].float().reshape(-1, 1, 1, 1)
        xt = a.sqrt() * z0 + (1 - a).sqrt() * eps
        with autocast():
            out = unet(xt, t.float(), encoder_hidden_states=context).sample
        loss = (out.float() - eps).pow(2).flatten(1).mean(1).mean()
        loss.backward()
        opt.step()
        loss.item()
        if i >= 2:
            steps.append(time.perf_counter() - t0)

    unet.eval()
    forwards = []
    with torch.inference_mode():
        for i in range(args.iters + 1):
            x = torch.randn(args.sample_batch, channels, side, side)
            context = torch.randn(args.sample_batch, tokens, width)
            t = torch.full((args.sample_batch,), 500.0)
            with autocast():
                t0 = time.perf_counter()
                unet(x, t, encoder_hidden_states=context).sample.sum().item()
            if i >= 1:
                forwards.append(time.perf_counter() - t0)
    return {"precision": precision, "parameters": params, "train_images_per_s": args.batch / statistics.median(steps),
            "sample_image_nfe_per_s": args.sample_batch / statistics.median(forwards)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True,
                   help="diffuse bench-latent's --json line in a file, a unet2d-condition run, or a diffusers unet config")
    p.add_argument("--precision", default="fp32,bf16")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--sample-batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=8)
    p.add_argument("--diffusers-src", default=DEFAULT_SRC, help="directory holding diffusers/ (default: tools/golden/src)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    import_diffusers(args.diffusers_src)
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel as unet_class
    import torch
    config, tokens = read_config(args.config)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, diffusers UNet2DConditionModel on "
          f"{config['in_channels']}x{config['sample_size']}x{config['sample_size']} latents, levels {config['block_out_channels']}, "
          f"context {tokens} tokens x {config['cross_attention_dim']}, batch {args.batch}")
    print(f"{'prec':<5} {'params':>10} {'train img/s':>12} {'sample img*NFE/s':>16}")
    rows = []
    for precision in args.precision.split(","):
        r = measure(unet_class, config, tokens, precision, args)
        print(f"{precision:<5} {r['parameters']:>10,} {r['train_images_per_s']:>12.1f} {r['sample_image_nfe_per_s']:>16.1f}", flush=True)
        rows.append(r)
    if args.json:
        print(json.dumps({"config": config, "tokens": tokens, "results": rows}))


if __name__ == "__main__":
    main()
