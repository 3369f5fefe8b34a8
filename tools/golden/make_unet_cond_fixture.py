#!/usr/bin/env python
"""Golden reference fixtures for diffusers' UNet2DConditionModel (the Stable Diffusion 1.x / 2.x U-Net) on tiny
random configs: one like SD 1.x (1x1-conv projections, one head count for every level), one like SD 2.x (linear
projections, head counts per level, upcast attention) that also takes a non-square input and one whose sides are not
multiples of the downsampling factor.

Every constant-initialised parameter is perturbed and the attention projections are scaled up (a near-uniform
softmax would hide query-side errors); the script then checks that a random nudge of any parameter moves the output.

Runs offline with only torch installed, on diffusers' source extracted to ./src (see golden_common.py, hf_stubs.py).

Usage:  /tmp/venv/bin/python make_unet_cond_fixture.py [OUT_DIR]   (default OUT_DIR = core/src/test/resources/golden/unet_cond)

Per config, OUT_DIR/<name>/ gets:
  config.json                          written by diffusers' own ConfigMixin.save_config()
  diffusion_pytorch_model.safetensors  model.state_dict() with diffusers key names, F32 (own writer, st_io.py)
  io.safetensors                       inputs and reference outputs, F32 (see IO_DOC below)
  meta.json                            provenance, shapes, how far wrong variants land, sha256 of the two .safetensors
"""
import os

import golden_common as common  # first: diffusers' source behind the import-time stubs
import torch  # noqa: E402

from diffusers.models.activations import GEGLU  # noqa: E402
from diffusers.models.attention_processor import Attention, AttnProcessor  # noqa: E402
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # noqa: E402

IO_DOC = {
    "sample": "noisy latents x_t [B, in_channels, H, W]",
    "timestep": "float32 [B] on diffusers' 0..999 scale (one of them fractional)",
    "encoder_hidden_states": "context tokens [B, L, cross_attention_dim]",
    "expected": "model(sample, timestep, encoder_hidden_states).sample",
    "odd_sample": "H and W not multiples of 2^(levels-1): diffusers then upsamples to the size of each skip",
    "odd_timestep": "as timestep, for odd_sample",
    "odd_encoder_hidden_states": "as encoder_hidden_states, for odd_sample (another token count)",
    "odd_expected": "model(odd_sample, odd_timestep, odd_encoder_hidden_states).sample",
}

CROSS_DOWN, DOWN, CROSS_UP, UP = "CrossAttnDownBlock2D", "DownBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"
CONFIGS = [
    # SD 1.x's shape: attention_head_dim an int (which diffusers reads as the head count of every level)
    ("unet_cond_sd1_tiny", 2024,
     dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=[8, 16, 16],
          down_block_types=[CROSS_DOWN, CROSS_DOWN, DOWN], up_block_types=[UP, CROSS_UP, CROSS_UP],
          layers_per_block=2, cross_attention_dim=24, attention_head_dim=2, norm_num_groups=4),
     dict(batch=2, size=(16, 16), tokens=7, timestep=[981.0, 37.25]),
     None),
    # SD 2.x's shape, and the keys SD leaves at their defaults set otherwise
    ("unet_cond_sd2_tiny", 4048,
     dict(sample_size=16, in_channels=4, out_channels=3, block_out_channels=[8, 16, 24],
          down_block_types=[CROSS_DOWN, CROSS_DOWN, DOWN], up_block_types=[UP, CROSS_UP, CROSS_UP],
          layers_per_block=1, cross_attention_dim=20, attention_head_dim=[1, 4, 3], use_linear_projection=True,
          upcast_attention=True, transformer_layers_per_block=2, norm_num_groups=4, norm_eps=1e-6,
          flip_sin_to_cos=False, freq_shift=1, downsample_padding=0, mid_block_scale_factor=1.5,
          center_input_sample=True),
     dict(batch=2, size=(12, 20), tokens=5, timestep=[640.5, 3.0]),
     dict(batch=1, size=(10, 14), tokens=3, timestep=[999.0])),
]


def inputs(cfg, spec, gen, prefix=""):
    b, (h, w) = spec["batch"], spec["size"]
    return {
        prefix + "sample": torch.randn(b, cfg["in_channels"], h, w, generator=gen),
        prefix + "timestep": torch.tensor(spec["timestep"], dtype=torch.float32),
        prefix + "encoder_hidden_states": torch.randn(b, spec["tokens"], cfg["cross_attention_dim"], generator=gen),
    }


def run(model, io, prefix=""):
    with torch.no_grad():
        return model(io[prefix + "sample"], io[prefix + "timestep"], io[prefix + "encoder_hidden_states"]).sample


def outputs(model, io):
    out = {"expected": run(model, io)}
    if "odd_sample" in io:
        out["odd_expected"] = run(model, io, "odd_")
    return out


def heads_as_head_width(model):
    """The misreading diffusers warns of: attention_head_dim taken as the width of a head, not the head count."""
    for m in model.modules():
        if isinstance(m, Attention):
            m.heads = m.to_q.out_features // m.heads


def gate_first(model):
    """GEGLU with its halves swapped: the first half gated by the GELU of the second is diffusers' order."""
    def forward(self, x, *args, **kwargs):
        gate, h = self.proj(x).chunk(2, dim=-1)
        return h * torch.nn.functional.gelu(gate)
    for m in model.modules():
        if isinstance(m, GEGLU):
            m.forward = forward.__get__(m)


def timestep_sin_cos_swapped(model):
    model.time_proj.flip_sin_to_cos = not model.time_proj.flip_sin_to_cos


WRONG_VARIANTS = {"attention_head_dim_as_head_width": heads_as_head_width, "geglu_gate_first": gate_first,
                  "timestep_sin_cos_swapped": timestep_sin_cos_swapped}


def sharpen_attention(model, factor=3.0):
    """Scales every to_q and to_k weight so that the attention logits grow factor^2-fold: at random init they are
    so small that the softmax is nearly uniform, and a query-side error (a norm's scale, the attention scale)
    would hardly show."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, Attention):
                m.to_q.weight.mul_(factor)
                m.to_k.weight.mul_(factor)


def params_without_effect(model, io):
    """The parameters whose random nudge (1e-2 N(0,1) on each value) leaves every output within 1e-5 (uniform
    nudges would hide behind the GroupNorms): there must be none, or the fixture would not check them."""
    gen = torch.Generator().manual_seed(0)
    base = outputs(model, io)
    dead = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            nudge = 1e-2 * torch.randn(p.shape, generator=gen)
            p.add_(nudge)
            if max(max_diff(base, outputs(model, io)).values()) < 1e-5:
                dead.append(name)
            p.sub_(nudge)
    return dead


def max_diff(a, b):
    return {k: float((a[k].double() - b[k].double()).abs().max()) for k in a}


def make_one(out_root, name, seed, cfg, spec, odd_spec):
    out = os.path.join(out_root, name)
    torch.manual_seed(seed)
    model = UNet2DConditionModel(**cfg).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    perturbed = common.perturb_constant_params(model, gen)
    sharpen_attention(model)

    io = inputs(cfg, spec, gen)
    if odd_spec:
        io.update(inputs(cfg, odd_spec, gen, "odd_"))
    res = outputs(model, io)
    common.write_folder(out, model, {**io, **res})

    def reload():
        return UNet2DConditionModel.from_pretrained(out, low_cpu_mem_usage=False).eval()

    # reloaded through diffusers' own from_pretrained (our safetensors stub reader), the outputs are the same
    reloaded = outputs(reload(), io)
    for k in res:
        assert torch.equal(res[k], reloaded[k]), f"from_pretrained round-trip mismatch in {k}"
    # tolerance hints: the classic (non-SDPA) attention processor, and float64
    classic = reload()
    classic.set_attn_processor(AttnProcessor())
    f64 = reload().double()
    io64 = {k: v.double() for k, v in io.items()}
    dead = params_without_effect(reload(), io)
    assert not dead, f"parameters without effect on the outputs: {dead}"
    # how far wrong readings of the architecture land: a parity test must fail on each
    wrong = {}
    for variant, spoil in WRONG_VARIANTS.items():
        spoilt = reload()
        spoil(spoilt)
        wrong[variant] = max_diff(res, outputs(spoilt, io))

    meta = common.provenance(model, out)
    meta.update({
        "seed": seed,
        "constructor_kwargs": cfg,
        "perturbed_constant_params": {"count": len(perturbed),
                                      "rule": "param was constant at init (GroupNorm/LayerNorm weight=1/bias=0) -> += 0.2*N(0,1)"},
        "sharpened_attention": "every to_q and to_k weight x3 (attention logits x9)",
        "params_without_effect": dead,
        "io_tensors": {k: {"shape": list(v.shape), "doc": IO_DOC[k]} for k, v in {**io, **res}.items()},
        "max_abs_expected": {k: float(v.abs().max()) for k, v in res.items()},
        "max_abs_diff_vs_classic_AttnProcessor": max_diff(res, outputs(classic, io)),
        "max_abs_diff_f32_vs_f64": max_diff(res, outputs(f64, io64)),
        "max_abs_diff_of_wrong_variants": wrong,
    })
    common.write_meta(out, meta)
    return model, meta


def main():
    common.deterministic_torch()
    out_root = common.fixture_root("unet_cond")
    for name, seed, cfg, spec, odd_spec in CONFIGS:
        model, meta = make_one(out_root, name, seed, cfg, spec, odd_spec)
        common.report(os.path.join(out_root, name), model, meta, entries=[
            ("max |expected|", "max_abs_expected"), ("maxdiff classic attn", "max_abs_diff_vs_classic_AttnProcessor"),
            ("maxdiff f32 vs f64", "max_abs_diff_f32_vs_f64"), ("maxdiff of wrong variants", "max_abs_diff_of_wrong_variants")])


if __name__ == "__main__":
    main()
