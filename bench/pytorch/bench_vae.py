"""The PyTorch eager peer of `diffuse bench-vae`: diffusers' own AutoencoderKL, built from the same config, the
same reconstruction training step and the same no-grad encode and decode, timed the same way.

    python3 bench/pytorch/bench_vae.py [--vae runs/vae] --precision fp32,bf16 --batch 16 [--channels-last]

The step is the autoencoder's share of a `diffuse train-vae` step: encode, draw from the posterior, decode,
L1 + 1e-6 KL (the KL summed over latent elements, averaged over the batch, divided by the pixels of an image),
backward, AdamW(lr 2e-4, betas 0.5, 0.9). Prints, per precision, the parameter count, training images/s and
encode and decode images/s (medians over --iters after two warm-up iterations).

Setup, offline: see bench/pytorch/diffusers_src.py.
"""

import argparse
import contextlib
import json
import os
import statistics
import time

from diffusers_src import DEFAULT_SRC, import_diffusers


DEFAULT_CONFIG = {  # what `diffuse train-vae` builds for 64x64 RGB images
    "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 1, "norm_num_groups": 16,
    "block_out_channels": [32, 64, 128], "down_block_types": ["DownEncoderBlock2D"] * 3,
    "up_block_types": ["UpDecoderBlock2D"] * 3, "sample_size": 64, "act_fn": "silu",
}
KL_WEIGHT = 1e-6


def read_config(vae):
    if vae is None:
        return dict(DEFAULT_CONFIG)
    folder = os.path.join(vae, "vae") if os.path.isfile(os.path.join(vae, "vae", "config.json")) else vae
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    return {k: v for k, v in cfg.items() if not k.startswith("_") and v is not None}


def measure(autoencoder_class, config, precision, args):
    import torch
    torch.manual_seed(1)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    vae = autoencoder_class(**config).to(memory_format=fmt)
    params = sum(p.numel() for p in vae.parameters())
    shape = (args.batch, config["in_channels"], config["sample_size"], config["sample_size"])

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()

    opt = torch.optim.AdamW(vae.parameters(), lr=2e-4, betas=(0.5, 0.9), eps=1e-8, weight_decay=0)
    times = []
    for i in range(args.iters + 2):
        x = (torch.rand(shape) * 2 - 1).contiguous(memory_format=fmt)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast():
            posterior = vae.encode(x).latent_dist
            reconstruction = vae.decode(posterior.sample()).sample.float()
            kl = posterior.kl().float().mean() / (x.numel() / x.shape[0])
            loss = (x - reconstruction).abs().mean() + KL_WEIGHT * kl
        loss.backward()
        opt.step()
        loss.item()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    train = args.batch / statistics.median(times)

    vae.eval()
    encodes, decodes = [], []
    with torch.inference_mode():
        for i in range(args.iters + 1):
            x = (torch.rand(shape) * 2 - 1).contiguous(memory_format=fmt)
            with autocast():
                t0 = time.perf_counter()
                z = vae.encode(x).latent_dist.mode()
                z.sum().item()
                t1 = time.perf_counter()
                vae.decode(z).sample.sum().item()
                t2 = time.perf_counter()
            if i >= 1:
                encodes.append(t1 - t0)
                decodes.append(t2 - t1)
    return {"precision": precision, "parameters": params, "train_images_per_s": train,
            "encode_images_per_s": args.batch / statistics.median(encodes),
            "decode_images_per_s": args.batch / statistics.median(decodes)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vae", help="a train-vae run or a diffusers vae/ folder (its config.json); default: train-vae's 64x64 RGB one")
    p.add_argument("--precision", default="fp32,bf16")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--iters", type=int, default=8)
    p.add_argument("--channels-last", action="store_true", help="activations and weights in channels-last (NHWC) layout")
    p.add_argument("--diffusers-src", default=DEFAULT_SRC, help="directory holding diffusers/ (default: tools/golden/src)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    import_diffusers(args.diffusers_src)
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL as autoencoder_class
    import torch
    config = read_config(args.vae)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, diffusers AutoencoderKL "
          f"{config['in_channels']}x{config['sample_size']}x{config['sample_size']} -> {config['latent_channels']} latent channels, "
          f"levels {config['block_out_channels']}, batch {args.batch}, {'channels-last' if args.channels_last else 'NCHW'}")
    print(f"{'prec':<5} {'params':>10} {'train img/s':>12} {'encode img/s':>12} {'decode img/s':>12}")
    rows = []
    for precision in args.precision.split(","):
        r = measure(autoencoder_class, config, precision, args)
        print(f"{precision:<5} {r['parameters']:>10,} {r['train_images_per_s']:>12.1f} {r['encode_images_per_s']:>12.1f}"
              f" {r['decode_images_per_s']:>12.1f}", flush=True)
        rows.append(r)
    if args.json:
        print(json.dumps({"config": config, "results": rows}))


if __name__ == "__main__":
    main()
