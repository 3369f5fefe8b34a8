#!/usr/bin/env python
"""Golden reference fixtures for diffusers' AutoencoderKL (Stable Diffusion VAE) on tiny random configs.

Runs fully offline with only torch (+numpy, packaging, requests, regex, typing_extensions) installed, using the
real diffusers source extracted to ./src (see hf_stubs.py for the import-time stubs that are required).

Usage:  /tmp/venv/bin/python make_vae_fixture.py [OUT_DIR]      (default OUT_DIR = core/src/test/resources/golden/vae)

Per config, OUT_DIR/<name>/ gets:
  config.json                          written by diffusers' own ConfigMixin.save_config()
  diffusion_pytorch_model.safetensors  model.state_dict() with diffusers key names, F32 (own writer, st_io.py)
  io.safetensors                       inputs and reference outputs, F32 (see IO_DOC below)
  meta.json                            provenance, shapes, tolerance hints, sha256 of the two .safetensors
"""
import os

import golden_common as common  # first: diffusers' source behind the import-time stubs
import torch  # noqa: E402

from diffusers.models.attention_processor import AttnProcessor  # noqa: E402
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL  # noqa: E402

IO_DOC = {
    "input": "image batch x in [-1,1], NCHW",
    "moments": "quant_conv(encoder(x)) (or encoder(x) when use_quant_conv=False): 2*latent_channels channels, "
               "BEFORE chunk/clamp",
    "posterior_mean": "encode(x).latent_dist.mean = moments[:, :latent_channels]",
    "posterior_logvar": "encode(x).latent_dist.logvar = clamp(moments[:, latent_channels:], -30, 20)",
    "decoded_mean": "decode(posterior_mean).sample (post_quant_conv + decoder; NO scaling_factor applied)",
    "forward_sample": "model(x, sample_posterior=False).sample (== decoded_mean)",
    "rect_input": "extra non-square input [1,3,12,20] (catches H/W mix-ups)",
    "rect_posterior_mean": "encode(rect_input).latent_dist.mean",
    "rect_posterior_logvar": "encode(rect_input).latent_dist.logvar",
    "rect_forward_sample": "model(rect_input, sample_posterior=False).sample",
}

BASE = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
    up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
    block_out_channels=[8, 16],
    layers_per_block=1,
    act_fn="silu",
    latent_channels=4,
    norm_num_groups=4,
    sample_size=16,
)
CONFIGS = [
    ("vae_tiny_attn", dict(BASE), 1234),
    ("vae_tiny_noattn_noquant", dict(BASE, mid_block_add_attention=False, use_quant_conv=False), 5678),
]


def force_logvar_clamp(model, x, cfg):
    """Shift the bias of the last layer that produces the logvar half so that some logvar values hit the clamp:
    logvar channel 0 partly > 20, logvar channel 1 partly < -30 (needs no new parameters)."""
    lc = cfg["latent_channels"]
    last = model.quant_conv if model.quant_conv is not None else model.encoder.conv_out
    with torch.no_grad():
        # widen the spread of those two output channels (x25) so the clamp boundary splits their values
        for ch in (lc + 0, lc + 1):
            last.weight[ch].mul_(25.0)
            last.bias[ch].mul_(25.0)
        m = model._encode(x)
        lv = m[:, lc:]
        for ch, target, q in ((lc + 0, 20.0, 0.7), (lc + 1, -30.0, 0.3)):
            v = lv[:, ch - lc].flatten()
            last.bias[ch].add_(target - torch.quantile(v, q))
        m = model._encode(x)
        lv = m[:, lc:]
        return {
            "frac_logvar_above_20": float((lv > 20).float().mean()),
            "frac_logvar_below_-30": float((lv < -30).float().mean()),
        }


def run_all(model, x, rect):
    with torch.no_grad():
        moments = model._encode(x)
        post = model.encode(x).latent_dist
        dec = model.decode(post.mean).sample
        fwd = model(x, sample_posterior=False).sample
        rpost = model.encode(rect).latent_dist
        rfwd = model(rect, sample_posterior=False).sample
    return {
        "input": x,
        "moments": moments,
        "posterior_mean": post.mean,
        "posterior_logvar": post.logvar,
        "decoded_mean": dec,
        "forward_sample": fwd,
        "rect_input": rect,
        "rect_posterior_mean": rpost.mean,
        "rect_posterior_logvar": rpost.logvar,
        "rect_forward_sample": rfwd,
    }


def make_one(out_root, name, cfg, seed):
    out = os.path.join(out_root, name)
    torch.manual_seed(seed)
    model = AutoencoderKL(**cfg).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    perturbed = common.perturb_constant_params(model, gen)

    x = torch.rand(2, 3, 16, 16, generator=gen) * 2 - 1
    rect = torch.rand(1, 3, 12, 20, generator=gen) * 2 - 1
    clamp_info = force_logvar_clamp(model, x, cfg)

    res = run_all(model, x, rect)
    assert torch.equal(res["decoded_mean"], res["forward_sample"]), "decode(mean) != forward(sample_posterior=False)"

    common.write_folder(out, model, res)

    # --- self-checks
    # 1) reload through diffusers' own from_pretrained (uses our safetensors stub reader) and compare outputs
    reloaded = AutoencoderKL.from_pretrained(out, low_cpu_mem_usage=False).eval()
    res2 = run_all(reloaded, x, rect)
    for k in res:
        assert torch.equal(res[k], res2[k]), f"from_pretrained round-trip mismatch in {k}"
    # 2) tolerance hints: classic (non-SDPA) attention processor and float64 execution
    classic = AutoencoderKL.from_pretrained(out, low_cpu_mem_usage=False).eval()
    classic.set_attn_processor(AttnProcessor())
    res_c = run_all(classic, x, rect)
    f64 = AutoencoderKL.from_pretrained(out, low_cpu_mem_usage=False).eval().double()
    res_d = run_all(f64, x.double(), rect.double())
    keys = ["posterior_mean", "posterior_logvar", "forward_sample", "rect_forward_sample"]
    maxdiff_classic = {k: float((res[k] - res_c[k]).abs().max()) for k in keys}
    maxdiff_f64 = {k: float((res[k].double() - res_d[k]).abs().max()) for k in keys}

    meta = common.provenance(model, out)
    meta.update({
        "seed": seed,
        "constructor_kwargs": cfg,
        "perturbed_constant_params": {"count": len(perturbed), "rule": "param was constant at init (GroupNorm weight=1/bias=0) -> += 0.2*N(0,1)"},
        "logvar_clamp": clamp_info,
        "io_tensors": {k: {"shape": list(v.shape), "doc": IO_DOC[k]} for k, v in res.items()},
        "max_abs_diff_vs_classic_AttnProcessor": maxdiff_classic,
        "max_abs_diff_f32_vs_f64": maxdiff_f64,
    })
    common.write_meta(out, meta)
    return model, meta


def main():
    common.deterministic_torch()
    out_root = common.fixture_root("vae")
    for name, cfg, seed in CONFIGS:
        model, meta = make_one(out_root, name, cfg, seed)
        common.report(os.path.join(out_root, name), model, meta, f", clamp={meta['logvar_clamp']}",
                      [("maxdiff classic attn", "max_abs_diff_vs_classic_AttnProcessor"),
                       ("maxdiff f32 vs f64", "max_abs_diff_f32_vs_f64")])


if __name__ == "__main__":
    main()
