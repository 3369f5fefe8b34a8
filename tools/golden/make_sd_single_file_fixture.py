#!/usr/bin/env python
"""Golden fixtures for original Stable Diffusion single-file checkpoints (the .safetensors files of model sites, in
the CompVis / Stability "LDM" key layout), with diffusers' own conversion code (diffusers/loaders/
single_file_utils.py at DIFFUSERS_COMMIT) as the reference.

Two tiny checkpoints are made from tiny random diffusers components (UNet2DConditionModel, AutoencoderKL and
transformers' CLIPTextModel) by this script's own inverse of diffusers' conversion (diffusers names -> LDM names):
  sd1_tiny.safetensors  SD 1.x layout, F32: model.diffusion_model.* (1x1-conv proj_in/proj_out, one head count for
                        every level), first_stage_model.* (VAE), cond_stage_model.transformer.text_model.* (CLIP,
                        transformers' names), and the extra keys real SD 1.x files carry: the LDM DDPM schedule
                        buffers (betas, alphas_cumprod, ...), model_ema.decay / model_ema.num_updates and the CLIP
                        position_ids.
  sd2_tiny.safetensors  SD 2.x layout, F16 (as most SD 2.x downloads are): linear proj_in/proj_out, a head count
                        per level (fixed head width), OpenCLIP's text tower cond_stage_model.model.* (token_embedding,
                        positional_embedding, transformer.resblocks.N.{ln_1, attn.in_proj_*, attn.out_proj, ln_2,
                        mlp.c_fc, mlp.c_proj}, ln_final, text_projection, logit_scale) with one resblock more than the
                        diffusers text encoder has (SD 2.x conditions on the penultimate layer), and the same extras.
Then the file as written is read back and diffusers' own functions are called on it directly
(convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint, convert_open_clip_checkpoint,
with the diffusers configs; no hub access): every tensor must come back exactly. Every file key is also replaced in
turn by a poisoned tensor to learn which diffusers keys it feeds (key_map.json) and which keys diffusers ignores.
Finally the whole StableDiffusionPipeline.from_single_file(file, config=<a local folder with the configs only>) path
loads the file, its components are compared with the originals, and their outputs are the reference outputs.

Runs offline with only torch installed: diffusers' source in ./src, transformers 4.57.6 extracted to /tmp/tf-src (or
$TRANSFORMERS_SRC), behind the stubs of hf_stubs.install_transformers(). The temporary config folder borrows the
tokenizer of golden/sd_pipeline (the tokenizer plays no part here).

Usage:  /tmp/venv/bin/python make_sd_single_file_fixture.py [OUT_DIR]   (default core/src/test/resources/golden/sd_single_file)

OUT_DIR gets <name>.safetensors and <name>/ with unet_config.json, vae_config.json, text_encoder_config.json (the
configs a loader must arrive at), io.safetensors (inputs and outputs of the converted modules, F32), key_map.json
(every file key -> the diffusers keys diffusers makes of it, and how) and meta.json; and MAPPING.md (the
rules, for a port; written by hand, not by this script).
"""
import json
import math
import os
import re
import shutil
import tempfile

import hf_stubs

hf_stubs.install_transformers()  # before golden_common, which imports diffusers

import golden_common as common  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel  # noqa: E402
from diffusers.loaders import single_file_utils as sfu  # noqa: E402
from diffusers.models.attention_processor import Attention  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402

import make_clip_text_fixture as clip_text  # noqa: E402
import make_unet_cond_fixture as unet_cond  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_DIR = os.path.join(HERE, "..", "..", "core", "src", "test", "resources", "golden", "sd_pipeline", "tokenizer")

UNET_P, VAE_P = "model.diffusion_model.", "first_stage_model."
CLIP_P, OPENCLIP_P = "cond_stage_model.transformer.", "cond_stage_model.model."
CD, D, CU, U = "CrossAttnDownBlock2D", "DownBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"

# SD's VAE shape (every level a DownEncoderBlock2D, two resnets per encoder level, three per decoder level, a mid
# attention, quant convs), tiny: real SD 1.x/2.x have block_out_channels (128, 256, 512, 512) and 32 groups.
VAE = dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3,
           up_block_types=["UpDecoderBlock2D"] * 3, block_out_channels=[8, 16, 16], layers_per_block=2,
           latent_channels=4, norm_num_groups=4, sample_size=32, scaling_factor=0.18215)
# Real SD has 4 U-Net levels (3 with cross-attention, the last without), 2 layers per block: the tiny ones keep the
# index pattern with 3 levels (2 with cross-attention). Real SD 1.x: 8 heads at every level (attention_head_dim 8);
# real SD 2.x: heads of width 64 (attention_head_dim [5, 10, 20, 20]). Tiny: SD 1.x 4 heads everywhere, SD 2.x heads of
# width 8. The text encoders' heads are 8 wide in both (64 in the real ones).
SPECS = [
    dict(name="sd1_tiny", seed=5101, dtype=torch.float32, family="sd1",
         unet=dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=[8, 16, 16], layers_per_block=2,
                   down_block_types=[CD, CD, D], up_block_types=[U, CU, CU], cross_attention_dim=32,
                   attention_head_dim=4, norm_num_groups=4),
         text=dict(vocab_size=1000, hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=3,
                   max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, bos_token_id=0,
                   eos_token_id=2, pad_token_id=1),
         scheduler=dict(prediction_type="epsilon")),
    dict(name="sd2_tiny", seed=5202, dtype=torch.float16, family="sd2",
         unet=dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=[16, 24, 32], layers_per_block=2,
                   down_block_types=[CD, CD, D], up_block_types=[U, CU, CU], cross_attention_dim=40,
                   attention_head_dim=[2, 3, 4], use_linear_projection=True, norm_num_groups=4),
         # the diffusers text encoder: OpenCLIP's tower minus its last resblock (the file has 3)
         text=dict(vocab_size=1000, hidden_size=40, intermediate_size=72, num_attention_heads=5, num_hidden_layers=2,
                   max_position_embeddings=77, hidden_act="gelu", layer_norm_eps=1e-5, bos_token_id=0,
                   eos_token_id=2, pad_token_id=1),
         openclip_projection_dim=24,
         scheduler=dict(prediction_type="v_prediction")),
]
# SD 1.5's noise schedule (LDM: linear_start 0.00085, linear_end 0.012, "linear" = diffusers' scaled_linear)
DDIM = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            clip_sample=False, set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading")
EMA_DECAY, EMA_NUM_UPDATES = 0.9999, 470000
TIMESTEP = 421.0

IO_DOC = {
    "input_ids": "int64 [3,77]: row 0 = 998, 5 ids, 999, then 999 as padding; row 1 = 998, 12 ids, 999, then 0; row 2 = "
                 "998, 75 ids, 999 (the rows of golden/clip_text)",
    "text_last_hidden_state": "converted text encoder(input_ids).last_hidden_state [3,77,hidden] (final layer norm "
                              "applied). SD 2.x: the diffusers model has one layer less than the file's OpenCLIP tower, "
                              "so this is ln_final(output of resblock N-2), SD 2.x's 'penultimate' conditioning",
    "text_penultimate_normed": "final_layer_norm(hidden_states[-2]) of the converted text encoder: what diffusers' "
                               "encode_prompt gives for clip_skip=1",
    "unet_sample": "[1,4,8,8] noisy latents",
    "unet_timestep": f"float32 [1] = {TIMESTEP}",
    "unet_encoder_hidden_states": "[1,77,cross_attention_dim] = text_last_hidden_state[0:1]",
    "unet_output": "converted unet(unet_sample, unet_timestep, unet_encoder_hidden_states).sample [1,4,8,8]",
    "vae_latent": "[1,4,8,8] latent (already divided by scaling_factor: decode's input as is)",
    "vae_decoded": "converted vae.decode(vae_latent).sample [1,3,32,32] (post_quant_conv + decoder)",
    "vae_image": "[1,3,16,16] image in [-1,1]",
    "vae_moments": "quant_conv(encoder(vae_image)) [1,8,4,4]: mean = first 4 channels, logvar = last 4 (before clamp)",
}

RESNET_UNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1", "norm2": "out_layers.0",
               "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


# ---------------------------------------------------------------- diffusers -> LDM (the inverse this script owns)
def unet_to_ldm(sd, cfg):
    L, n = cfg["layers_per_block"], len(cfg["block_out_channels"])
    fixed = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
             "time_embedding.linear_2": "time_embed.2", "conv_norm_out": "out.0", "conv_out": "out.2"}

    def resnet(rest):
        first, _, tail = rest.partition(".")
        return RESNET_UNET[first] + "." + tail

    out = {}
    for key, t in sd.items():
        if m := re.fullmatch(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
            lvl, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
            k = 1 + lvl * (L + 1) + j
            new = f"input_blocks.{k}.0.{resnet(rest)}" if kind == "resnets" else f"input_blocks.{k}.1.{rest}"
        elif m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(weight|bias)", key):
            new = f"input_blocks.{(int(m[1]) + 1) * (L + 1)}.0.op.{m[2]}"
        elif m := re.fullmatch(r"mid_block\.(resnets|attentions)\.(\d+)\.(.+)", key):
            idx = {("resnets", 0): 0, ("attentions", 0): 1, ("resnets", 1): 2}[(m[1], int(m[2]))]
            new = f"middle_block.{idx}." + (resnet(m[3]) if m[1] == "resnets" else m[3])
        elif m := re.fullmatch(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.+)", key):
            lvl, kind, j, rest = int(m[1]), m[2], int(m[3]), m[4]
            k = lvl * (L + 1) + j
            new = f"output_blocks.{k}.0.{resnet(rest)}" if kind == "resnets" else f"output_blocks.{k}.1.{rest}"
        elif m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(weight|bias)", key):
            lvl = int(m[1])
            sub = 2 if cfg["up_block_types"][lvl].startswith("CrossAttn") else 1
            new = f"output_blocks.{lvl * (L + 1) + L}.{sub}.conv.{m[2]}"
        else:
            head, _, tail = key.rpartition(".")
            new = fixed[head] + "." + tail
        m = re.match(r"(input|output)_blocks\.(\d+)\.", new)
        assert m is None or int(m[2]) < n * (L + 1), new
        out[UNET_P + new] = t
    return out


def vae_to_ldm(sd, cfg):
    n = len(cfg["block_out_channels"])

    def resnet(rest):
        return rest.replace("conv_shortcut", "nin_shortcut")

    out = {}
    for key, t in sd.items():
        side, _, rest = key.partition(".")
        if side in ("quant_conv", "post_quant_conv"):
            out[VAE_P + key] = t
            continue
        if rest.startswith("conv_norm_out."):
            new = rest.replace("conv_norm_out.", "norm_out.")
        elif m := re.fullmatch(r"(down|up)_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", rest):
            i = int(m[2]) if m[1] == "down" else n - 1 - int(m[2])
            new = f"{m[1]}.{i}.block.{m[3]}.{resnet(m[4])}"
        elif m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(weight|bias)", rest):
            new = f"down.{m[1]}.downsample.conv.{m[2]}"
        elif m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(weight|bias)", rest):
            new = f"up.{n - 1 - int(m[1])}.upsample.conv.{m[2]}"
        elif m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(.+)", rest):
            new = f"mid.block_{int(m[1]) + 1}.{resnet(m[2])}"
        elif m := re.fullmatch(r"mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)", rest):
            new = f"mid.attn_1.{VAE_ATTN[m[1]]}.{m[2]}"
            if m[1] != "group_norm" and m[2] == "weight":
                t = t[:, :, None, None]  # LDM's AttnBlock uses 1x1 convolutions
        else:
            assert rest.split(".")[0] in ("conv_in", "conv_out"), key
            new = rest
        out[VAE_P + side + "." + new] = t
    return out


def clip_to_ldm(sd):
    """SD 1.x keeps transformers' CLIPTextModel names under cond_stage_model.transformer. (and real files carry the
    position_ids buffer that older transformers saved)."""
    out = {CLIP_P + k: v for k, v in sd.items()}
    assert "text_model.embeddings.position_ids" not in sd  # a non-persistent buffer in transformers 4.57.6
    out[CLIP_P + "text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]
    return out


def openclip_to_ldm(sd, n_layers, projection, logit_scale):
    """transformers' CLIPTextModel (the whole OpenCLIP tower, all n_layers) -> OpenCLIP's names; q, k, v are
    stacked in that order into MultiheadAttention's in_proj; text_projection is OpenCLIP's [width, embed_dim] (x @ P)."""
    T = "text_model."
    out = {
        OPENCLIP_P + "token_embedding.weight": sd[T + "embeddings.token_embedding.weight"],
        OPENCLIP_P + "positional_embedding": sd[T + "embeddings.position_embedding.weight"],
        OPENCLIP_P + "ln_final.weight": sd[T + "final_layer_norm.weight"],
        OPENCLIP_P + "ln_final.bias": sd[T + "final_layer_norm.bias"],
        OPENCLIP_P + "text_projection": projection,
        OPENCLIP_P + "logit_scale": logit_scale,
    }
    used = {T + "embeddings.token_embedding.weight", T + "embeddings.position_embedding.weight",
            T + "final_layer_norm.weight", T + "final_layer_norm.bias"}
    for i in range(n_layers):
        s, d = f"{T}encoder.layers.{i}.", f"{OPENCLIP_P}transformer.resblocks.{i}."
        pairs = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "self_attn.out_proj": "attn.out_proj",
                 "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj"}
        for a, b in pairs.items():
            for wb in ("weight", "bias"):
                out[d + b + "." + wb] = sd[s + a + "." + wb]
                used.add(s + a + "." + wb)
        for wb in ("weight", "bias"):
            parts = [s + f"self_attn.{p}_proj.{wb}" for p in "qkv"]
            out[d + f"attn.in_proj_{wb}"] = torch.cat([sd[p] for p in parts], 0)
            used.update(parts)
    assert used == set(sd), set(sd) - used
    return out


def ldm_schedule(n=1000, linear_start=0.00085, linear_end=0.012):
    """The buffers LDM's DDPM.register_schedule stores in every SD 1.x/2.x checkpoint (v_posterior 0), computed as
    LDM does: float64 numpy, then float32 tensors."""
    betas = (torch.linspace(linear_start ** 0.5, linear_end ** 0.5, n, dtype=torch.float64) ** 2).numpy()
    alphas = 1.0 - betas
    ac = np.cumprod(alphas, axis=0)
    ac_prev = np.append(1.0, ac[:-1])
    post_var = betas * (1.0 - ac_prev) / (1.0 - ac)
    bufs = {
        "betas": betas, "alphas_cumprod": ac, "alphas_cumprod_prev": ac_prev,
        "sqrt_alphas_cumprod": np.sqrt(ac), "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - ac),
        "log_one_minus_alphas_cumprod": np.log(1.0 - ac), "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / ac),
        "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / ac - 1), "posterior_variance": post_var,
        "posterior_log_variance_clipped": np.log(np.maximum(post_var, 1e-20)),
        "posterior_mean_coef1": betas * np.sqrt(ac_prev) / (1.0 - ac),
        "posterior_mean_coef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
    }
    return {k: torch.tensor(v, dtype=torch.float32) for k, v in bufs.items()}


# ---------------------------------------------------------------- the tiny models
def make_models(spec):
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"] + 1)
    unet = UNet2DConditionModel(**spec["unet"]).eval()
    vae = AutoencoderKL(**VAE).eval()
    tcfg = dict(spec["text"])
    if spec["family"] == "sd2":
        tcfg["num_hidden_layers"] += 1  # OpenCLIP's whole tower; diffusers keeps all but the last resblock
    tower = CLIPTextModel(CLIPTextConfig(**tcfg)).eval()
    perturbed = {n: len(common.perturb_constant_params(m, gen)) for n, m in
                 (("unet", unet), ("vae", vae), ("text", tower))}
    unet_cond.sharpen_attention(unet)
    unet_cond.sharpen_attention(vae)
    clip_text.widen_embeddings(tower, gen)
    clip_text.sharpen_attention(tower)
    extra = {}
    if spec["family"] == "sd2":
        h = spec["text"]["hidden_size"]
        extra["projection"] = torch.randn(h, spec["openclip_projection_dim"], generator=gen) * h ** -0.5
        extra["logit_scale"] = torch.tensor(math.log(100.0))  # what trained CLIP models end at (init log(1/0.07))
    if spec["dtype"] != torch.float32:  # the weights are what the F16 file holds, so the F32 references are exact
        with torch.no_grad():
            for m in (unet, vae, tower):
                for p in m.parameters():
                    p.copy_(p.to(spec["dtype"]).float())
        extra = {k: v.to(spec["dtype"]).float() for k, v in extra.items()}
    if spec["family"] == "sd2":
        text = CLIPTextModel(CLIPTextConfig(**spec["text"])).eval()
        missing, unexpected = text.load_state_dict(tower.state_dict(), strict=False)
        assert not missing and all(k.startswith(f"text_model.encoder.layers.{spec['text']['num_hidden_layers']}.")
                                   for k in unexpected), (missing, unexpected)
    else:
        text = tower
    return unet, vae, text, tower, extra, perturbed


def build_checkpoint(spec, unet, vae, tower, extra):
    ckpt = {}
    ckpt.update(unet_to_ldm(unet.state_dict(), spec["unet"]))
    ckpt.update(vae_to_ldm(vae.state_dict(), VAE))
    if spec["family"] == "sd1":
        ckpt.update(clip_to_ldm(tower.state_dict()))
    else:
        ckpt.update(openclip_to_ldm(tower.state_dict(), tower.config.num_hidden_layers, extra["projection"],
                                    extra["logit_scale"]))
    ckpt.update(ldm_schedule())
    ckpt["model_ema.decay"] = torch.tensor(EMA_DECAY, dtype=torch.float32)
    ckpt["model_ema.num_updates"] = torch.tensor(EMA_NUM_UPDATES, dtype=torch.int32)  # LitEma: torch.int buffer
    dt = spec["dtype"]
    return {k: (v.to(dt) if v.is_floating_point() else v).contiguous() for k, v in ckpt.items()}


# ---------------------------------------------------------------- diffusers' conversion, called directly
def convert_all(spec, ckpt, unet, vae, text):
    conv = {"unet": sfu.convert_ldm_unet_checkpoint(ckpt, unet.config),
            "vae": sfu.convert_ldm_vae_checkpoint(ckpt, vae.config)}
    if spec["family"] == "sd1":
        conv["text_encoder"] = sfu.convert_ldm_clip_checkpoint(ckpt)
    else:
        conv["text_encoder"] = sfu.convert_open_clip_checkpoint(text, ckpt, prefix=OPENCLIP_P)
    return conv


def compare_conversion(conv, models):
    """Every tensor of every component's state dict comes back exactly (as float32); the keys the conversion makes
    beyond the model's are listed (load_state_dict(strict=False) drops them)."""
    report = {}
    for name, model in models.items():
        sd, c = model.state_dict(), conv[name]
        missing = sorted(set(sd) - set(c))
        assert not missing, f"{name}: diffusers' conversion lacks {missing}"
        for k, v in sd.items():
            assert c[k].shape == v.shape, (name, k, c[k].shape, v.shape)
            assert torch.equal(c[k].float(), v), f"{name}: {k} differs"
        report[name] = {"model_keys": len(sd), "all_equal": True,
                        "converted_keys_not_in_model": sorted(set(c) - set(sd))}
    return report


def poison(t):
    if t.is_floating_point():
        return torch.full_like(t, float("nan"))
    return t + 12345


def transform(src, dst):
    """How diffusers' tensor dst was made from the file's tensor src."""
    if src.shape == dst.shape and torch.equal(src, dst):
        return "copy"
    if src.ndim == 4 and src.shape[2:] == (1, 1) and torch.equal(src[:, :, 0, 0], dst):
        return "squeeze [out,in,1,1] -> [out,in]"
    if src.ndim == 2 and dst.ndim == 2 and src.T.shape == dst.shape and torch.equal(src.T, dst):
        return "transpose"
    n = dst.shape[0]
    for a in range(0, src.shape[0] - n + 1, n):
        if torch.equal(src[a:a + n], dst):
            return f"rows {a}:{a + n}"
    raise AssertionError("unknown transform")


def key_map(spec, ckpt, unet, vae, text, base):
    """Which diffusers keys each file key feeds, and how: the key's tensor is replaced by NaNs (integers: shifted) and
    the conversion rerun; the converted keys that change are its image. Keys feeding nothing are ignored by
    diffusers. Returns {file key: {"component:diffusers key": transform}}."""
    result = {}
    for k in sorted(ckpt):
        pois = dict(ckpt)
        pois[k] = poison(ckpt[k])
        conv = convert_all(spec, pois, unet, vae, text)
        fed = {}
        for comp, c in conv.items():
            b = base[comp]
            for dk in sorted(set(c) | set(b)):
                if dk not in c or dk not in b or c[dk].shape != b[dk].shape or not torch.equal(c[dk], b[dk]):
                    fed[f"{comp}:{dk}"] = transform(ckpt[k], b[dk])
        result[k] = fed
    return result


def text_projection_probe(spec, ckpt, unet, vae, text, base):
    """convert_open_clip_checkpoint splits in_proj at text_projection.shape[0] (OpenCLIP's [width, embed_dim], so the
    width), or at text_model.config.hidden_size without that key; it never loads text_projection itself."""
    model_keys = set(text.state_dict())

    def same(conv):
        c = conv["text_encoder"]
        return all(c[k].shape == base["text_encoder"][k].shape and torch.equal(c[k], base["text_encoder"][k])
                   for k in model_keys)
    key = OPENCLIP_P + "text_projection"
    without = {k: v for k, v in ckpt.items() if k != key}
    transposed = dict(ckpt)
    transposed[key] = ckpt[key].T.contiguous()
    conv_t = convert_all(spec, transposed, unet, vae, text)["text_encoder"]
    return {"shape_in_file": list(ckpt[key].shape),
            "conversion_unchanged_without_text_projection": same(convert_all(spec, without, unet, vae, text)),
            "conversion_unchanged_with_text_projection_transposed": same({"text_encoder": conv_t}) if all(
                conv_t[k].shape == base["text_encoder"][k].shape for k in model_keys) else False,
            "q_proj_rows_with_text_projection_transposed": list(
                conv_t["text_model.encoder.layers.0.self_attn.q_proj.weight"].shape)}


# ---------------------------------------------------------------- the loader's view: configs from keys and shapes
def infer_configs(ckpt, family):
    """What a port can read off the file alone (the rules of MAPPING.md), returned as diffusers/transformers config
    entries. Head counts, group counts, sample sizes, the scaling factor and the prediction type are not in the
    file: they are filled by the family's rule (real values; the tiny fixtures' own in TINY_RULES)."""
    keys = set(ckpt)

    def shape(k):
        return list(ckpt[k].shape)

    ib = lambda i: f"{UNET_P}input_blocks.{i}."  # noqa: E731
    n_in = 1 + max(int(re.match(rf"{UNET_P}input_blocks\.(\d+)\.", k)[1]) for k in keys
                   if k.startswith(UNET_P + "input_blocks."))
    ops = sorted(int(re.match(rf"{UNET_P}input_blocks\.(\d+)\.0\.op\.weight", k)[1]) for k in keys
                 if re.match(rf"{UNET_P}input_blocks\.\d+\.0\.op\.weight", k))
    L = ops[0] - 1
    n = len(ops) + 1
    assert n_in == n * (L + 1)  # conv_in, L resnets per level, a downsampler between levels
    boc = [shape(ib(1 + lvl * (L + 1)) + "0.out_layers.3.weight")[0] for lvl in range(n)]
    down = [CD if ib(1 + lvl * (L + 1)) + "1.proj_in.weight" in keys else D for lvl in range(n)]
    up = [CU if f"{UNET_P}output_blocks.{i * (L + 1)}.1.proj_in.weight" in keys else U for i in range(n)]
    proj = next(k for k in sorted(keys) if k.endswith(".proj_in.weight") and k.startswith(UNET_P))
    to_k2 = next(k for k in sorted(keys) if k.endswith("attn2.to_k.weight") and k.startswith(UNET_P))
    depth = len({re.match(r".*transformer_blocks\.(\d+)\.", k)[1] for k in keys
                 if k.startswith(ib(1) + "1.transformer_blocks.")})
    unet = {"in_channels": shape(ib(0) + "0.weight")[1], "out_channels": shape(UNET_P + "out.2.weight")[0],
            "block_out_channels": boc, "layers_per_block": L, "down_block_types": down, "up_block_types": up,
            "cross_attention_dim": shape(to_k2)[1], "use_linear_projection": len(shape(proj)) == 2,
            "transformer_layers_per_block": depth}
    vn = len({k.split(".")[3] for k in keys if k.startswith(VAE_P + "encoder.down.")})
    vL = len({k.split(".")[5] for k in keys if k.startswith(VAE_P + "encoder.down.0.block.")})
    vae = {"in_channels": shape(VAE_P + "encoder.conv_in.weight")[1],
           "out_channels": shape(VAE_P + "decoder.conv_out.weight")[0],
           "block_out_channels": [shape(f"{VAE_P}encoder.down.{i}.block.0.conv1.weight")[0] for i in range(vn)],
           "layers_per_block": vL, "latent_channels": shape(VAE_P + "post_quant_conv.weight")[0]}
    assert len({k.split(".")[5] for k in keys if k.startswith(VAE_P + "decoder.up.0.block.")}) == vL + 1
    if family == "sd1":
        T = CLIP_P + "text_model."
        layers = len({k.split(".")[5] for k in keys if k.startswith(T + "encoder.layers.")})
        emb = shape(T + "embeddings.token_embedding.weight")
        text = {"vocab_size": emb[0], "hidden_size": emb[1],
                "max_position_embeddings": shape(T + "embeddings.position_embedding.weight")[0],
                "num_hidden_layers": layers, "intermediate_size": shape(T + "encoder.layers.0.mlp.fc1.weight")[0]}
    else:
        R = OPENCLIP_P + "transformer.resblocks."
        blocks = len({k.split(".")[4] for k in keys if k.startswith(R)})
        emb = shape(OPENCLIP_P + "token_embedding.weight")
        text = {"vocab_size": emb[0], "hidden_size": emb[1],
                "max_position_embeddings": shape(OPENCLIP_P + "positional_embedding")[0],
                "num_hidden_layers": blocks - 1, "intermediate_size": shape(R + "0.mlp.c_fc.weight")[0]}
    return {"unet": unet, "vae": vae, "text_encoder": text}


TINY_RULES = {
    "sd1": {"unet.attention_head_dim": "4 (one head count for every level; real SD 1.x: 8)",
            "text_encoder.num_attention_heads": "hidden_size / 8 (real: 768 / 64 = 12)",
            "text_encoder.hidden_act": "quick_gelu", "norm_num_groups": "4 (real: 32)"},
    "sd2": {"unet.attention_head_dim": "block_out_channels / 8 per level (real: / 64, [5, 10, 20, 20])",
            "text_encoder.num_attention_heads": "hidden_size / 8 (real: 1024 / 64 = 16)",
            "text_encoder.hidden_act": "gelu", "norm_num_groups": "4 (real: 32)"},
}


def check_inferred(inferred, unet, vae, text):
    for name, model_cfg in (("unet", unet.config), ("vae", vae.config), ("text_encoder", text.config.to_dict())):
        for k, v in inferred[name].items():
            have = model_cfg[k]
            have = list(have) if isinstance(have, (list, tuple)) else have
            assert have == v, f"{name}.{k}: inferred {v}, config {have}"


# ---------------------------------------------------------------- what diffusers decides from keys alone
def real_like(family, inpaint=False):
    """Meta tensors with the shapes of the keys infer_diffusers_model_type looks at in real SD 1.5 / 2.1 files."""
    ctx = 768 if family == "sd1" else 1024
    shapes = {
        UNET_P + "input_blocks.0.0.weight": [320, 9 if inpaint else 4, 3, 3],
        UNET_P + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight": [320, ctx],
        UNET_P + "output_blocks.11.0.skip_connection.weight": [320, 640, 1, 1],
        (CLIP_P + "text_model.embeddings.position_embedding.weight" if family == "sd1"
         else OPENCLIP_P + "token_embedding.weight"): [77, 768] if family == "sd1" else [49408, 1024],
    }
    return {k: torch.empty(v, device="meta") for k, v in shapes.items()}


def diffusers_decisions(tiny):
    saved = dict(sfu.SCHEDULER_DEFAULT_CONFIG)
    out = {"infer_diffusers_model_type": {}, "legacy_scheduler_prediction_type": {}}
    cases = {"tiny sd1 file": tiny["sd1_tiny"], "tiny sd2 file": tiny["sd2_tiny"],
             "real-shaped SD 1.5": real_like("sd1"), "real-shaped SD 2.1": real_like("sd2"),
             "real-shaped SD 1.5 inpainting": real_like("sd1", True),
             "real-shaped SD 2 inpainting": real_like("sd2", True)}
    for label, ck in cases.items():
        mt = sfu.infer_diffusers_model_type(ck)
        out["infer_diffusers_model_type"][label] = {
            "model_type": mt, "default_config_repo": sfu.DIFFUSERS_DEFAULT_PIPELINE_PATHS.get(mt, {}).get(
                "pretrained_model_name_or_path"),
            "default_image_size": sfu.DIFFUSERS_TO_LDM_DEFAULT_IMAGE_SIZE_MAP.get(mt),
            "is_clip_model": sfu.is_clip_model(ck), "is_open_clip_model": sfu.is_open_clip_model(ck)}
    for label, ck in (("real-shaped SD 2.1", real_like("sd2")),
                      ("real-shaped SD 2.1 + global_step 875000", {**real_like("sd2"), "global_step": 875000}),
                      ("real-shaped SD 1.5", real_like("sd1"))):
        sch = sfu._legacy_load_scheduler(DDIMScheduler, ck, "scheduler")
        out["legacy_scheduler_prediction_type"][label] = {
            k: sch.config[k] for k in ("prediction_type", "beta_start", "beta_end", "beta_schedule")}
    out["SCHEDULER_DEFAULT_CONFIG_mutated_by_legacy_load"] = {
        k: [saved[k], sfu.SCHEDULER_DEFAULT_CONFIG[k]] for k in saved if saved[k] != sfu.SCHEDULER_DEFAULT_CONFIG[k]}
    sfu.SCHEDULER_DEFAULT_CONFIG.clear()
    sfu.SCHEDULER_DEFAULT_CONFIG.update(saved)
    return out


DIFFUSERS_RULES = {
    "sd1_vs_sd2": "infer_diffusers_model_type looks at U-Net keys only: 'inpainting*' if "
                  "model.diffusion_model.input_blocks.0.0.weight has 9 input channels; 'v2' iff "
                  "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight exists with shape[-1] "
                  "(the cross-attention context width) 1024; after a list of other families (SDXL, SD3, Flux, ...) it "
                  "falls through to 'v1'. The text encoder's keys only pick the converter: is_clip_model = "
                  "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight present, "
                  "is_open_clip_model = cond_stage_model.model.token_embedding.weight present. Both tiny files are "
                  "'v1' to diffusers (context width 32 and 40), so for the tiny SD 2.x file diffusers would fetch SD "
                  "1.5's configs; a port tells the families apart by the text encoder prefix (or the context width, "
                  "768 vs 1024).",
    "prediction_type": "Not in the file. from_single_file (default, non-legacy path) takes every config, the "
                       "scheduler's included, from the hub repo DIFFUSERS_DEFAULT_PIPELINE_PATHS[model_type]: 'v1' -> "
                       "stable-diffusion-v1-5/stable-diffusion-v1-5 (epsilon), 'v2' -> stabilityai/stable-diffusion-2-1 "
                       "(v_prediction, 768 px): every SD 2.x file, 512-px epsilon 2.x-base ones included, is "
                       "v_prediction unless config= or scheduler= is given. Legacy path (an original_config yaml with no "
                       "cached diffusers config, or the deprecated prediction_type/scheduler_type kwargs): "
                       "_legacy_load_scheduler gives 'v2' 'epsilon' if checkpoint['global_step'] == 875000 else "
                       "'v_prediction' (the yaml's parameterization is not read; load_single_file_checkpoint unwraps "
                       "'state_dict', losing a .ckpt's top-level global_step, and .safetensors files have none, so in "
                       "practice always v_prediction), every other type 'epsilon'.",
    "legacy_scheduler_quirks": "_legacy_load_scheduler without an original_config sets beta_start 0.02 and beta_end "
                               "0.085 (scaled_linear), not SD's 0.00085 / 0.012, and writes into the module-level "
                               "SCHEDULER_DEFAULT_CONFIG (no copy: see SCHEDULER_DEFAULT_CONFIG_mutated_by_legacy_load); "
                               "num_train_timesteps is getattr(<dict>, 'timesteps', 1000), always 1000.",
    "not_in_the_file": "head counts (U-Net and text encoder), GroupNorm groups (32 in real SD), the VAE's scaling "
                       "factor (0.18215: LDM_VAE_DEFAULT_SCALING_FACTOR, or the yaml's model.params.scale_factor, or "
                       "0.5 when edm_mean/edm_std keys exist), sample sizes (DIFFUSERS_TO_LDM_DEFAULT_IMAGE_SIZE_MAP: "
                       "v1 512, v2 768; U-Net sample_size = image size / 8), upcast_attention, the scheduler, the "
                       "tokenizer (SD 1.x pads with <|endoftext|>, SD 2.x with '!')",
    "ema": "convert_ldm_unet_checkpoint reads the U-Net from model_ema.* only when more than 100 keys start with "
           "'model_ema' and extract_ema=True (from_single_file passes no extract_ema: False); the EMA names are "
           "'model_ema.' + the LDM key without 'model.' and without any dot (model_ema.diffusion_modelinput_blocks00"
           "weight). model_ema.decay and model_ema.num_updates (LitEma's buffers, in real SD 1.x/2.x files) are never "
           "read.",
    "dropped_silently": "from_single_file loads with load_state_dict(strict=False) (accelerate absent) or "
                        "load_model_dict_into_meta: converted keys the model lacks are dropped with a warning at "
                        "most, and missing ones are not reported at all. The SD 1.x CLIP position_ids (a "
                        "non-persistent buffer in transformers >= 4.31; some merged files carry it as float with "
                        "drifted values) and the OpenCLIP tower's last resblock are dropped that way. "
                        "SD_2_TEXT_ENCODER_KEYS_TO_IGNORE names resblocks.23.* (the 24th block of OpenCLIP ViT-H) and "
                        "text_projection literally: in the tiny file the last block is resblocks.2, which the converter "
                        "turns into text_model.encoder.layers.2.* for load_state_dict to drop.",
    "schedule_buffers": "betas, alphas_cumprod, ... (LDM's DDPM.register_schedule, float32 [1000] in real F32 files, "
                        "F16 in F16 files) are never read; they hold SD's schedule (linear_start 0.00085, linear_end "
                        "0.012, 'linear' = diffusers' scaled_linear) and a port may check them against its own.",
}


# ---------------------------------------------------------------- the whole from_single_file path
def from_single_file(spec, path, unet, vae, text):
    # built from the files (a tokenizer read by from_pretrained cannot be saved again behind the stubs)
    tok = CLIPTokenizer(os.path.join(TOKENIZER_DIR, "vocab.json"), os.path.join(TOKENIZER_DIR, "merges.txt"),
                        pad_token="<|endoftext|>", model_max_length=77)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
                                   scheduler=DDIMScheduler(**DDIM, **spec["scheduler"]), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    tmp = tempfile.mkdtemp(prefix="sd_single_file_config_")
    try:
        pipe.save_pretrained(tmp, safe_serialization=True)
        for sub in ("unet", "vae", "text_encoder"):  # configs only: the weights must come from the single file
            for f in os.listdir(os.path.join(tmp, sub)):
                if f.endswith(".safetensors"):
                    os.remove(os.path.join(tmp, sub, f))
        loaded = StableDiffusionPipeline.from_single_file(path, config=tmp, safety_checker=None,
                                                          requires_safety_checker=False)
    finally:
        shutil.rmtree(tmp)
    for name, orig in (("unet", unet), ("vae", vae), ("text_encoder", text)):
        a, b = orig.state_dict(), getattr(loaded, name).state_dict()
        assert a.keys() == b.keys(), name
        for k in a:
            assert b[k].dtype == torch.float32 and torch.equal(a[k], b[k]), f"from_single_file {name}.{k}"
    return loaded


# ---------------------------------------------------------------- reference outputs
def text_outputs(text, ids):
    with torch.no_grad():
        o = text(input_ids=ids, output_hidden_states=True)
        return {"text_last_hidden_state": o.last_hidden_state,
                "text_penultimate_normed": text.text_model.final_layer_norm(o.hidden_states[-2])}


def unet_outputs(unet, io):
    with torch.no_grad():
        return {"unet_output": unet(io["unet_sample"], io["unet_timestep"], io["unet_encoder_hidden_states"]).sample}


def vae_outputs(vae, io):
    with torch.no_grad():
        return {"vae_decoded": vae.decode(io["vae_latent"]).sample, "vae_moments": vae._encode(io["vae_image"])}


def outputs_of(name, model, io):
    if name == "text_encoder":
        return text_outputs(model, io["input_ids"])
    return unet_outputs(model, io) if name == "unet" else vae_outputs(model, io)


def all_outputs(models, io):
    return {k: v for name, m in models.items() for k, v in outputs_of(name, m, io).items()}


def max_diff(a, b):
    return {k: float((a[k].double() - b[k].double()).abs().max()) for k in a}


BY_DESIGN = ("self_attn.k_proj.bias", "to_k.bias")  # a key bias adds q.b_k to a whole softmax row: it cancels


def params_without_effect(models, io):
    """Every parameter of the converted modules nudged in turn (1e-2 N(0,1) on each value): the ones that leave their
    module's outputs within 1e-6. There must be none (but the by-design ones), or io would not check their mapping."""
    gen = torch.Generator().manual_seed(0)
    dead = []
    with torch.no_grad():
        for mname, m in models.items():
            base = outputs_of(mname, m, io)
            for name, p in m.named_parameters():
                nudge = 1e-2 * torch.randn(p.shape, generator=gen)
                p.add_(nudge)
                if max(max_diff(base, outputs_of(mname, m, io)).values()) < 1e-6 and not name.endswith(BY_DESIGN):
                    dead.append(f"{mname}.{name}")
                p.sub_(nudge)
    return dead


def openclip_reference(ckpt, ids, n_blocks, heads):
    """SD 2.x's FrozenOpenCLIPEmbedder(layer="penultimate") rebuilt from the file's own OpenCLIP tensors with
    torch.nn.MultiheadAttention (as open_clip does): token + positional embedding, the first n_blocks resblocks under
    the causal mask, ln_final."""
    f = {k[len(OPENCLIP_P):]: v.float() for k, v in ckpt.items() if k.startswith(OPENCLIP_P)}
    width = f["token_embedding.weight"].shape[1]
    x = f["token_embedding.weight"][ids] + f["positional_embedding"]
    mask = torch.full((ids.shape[1], ids.shape[1]), float("-inf")).triu_(1)
    ln = torch.nn.functional.layer_norm
    with torch.no_grad():
        for i in range(n_blocks):
            b = f"transformer.resblocks.{i}."
            mha = torch.nn.MultiheadAttention(width, heads, batch_first=True)
            mha.load_state_dict({"in_proj_weight": f[b + "attn.in_proj_weight"], "in_proj_bias": f[b + "attn.in_proj_bias"],
                                 "out_proj.weight": f[b + "attn.out_proj.weight"],
                                 "out_proj.bias": f[b + "attn.out_proj.bias"]})
            h = ln(x, (width,), f[b + "ln_1.weight"], f[b + "ln_1.bias"])
            x = x + mha(h, h, h, need_weights=False, attn_mask=mask)[0]
            h = ln(x, (width,), f[b + "ln_2.weight"], f[b + "ln_2.bias"])
            h = torch.nn.functional.gelu(h @ f[b + "mlp.c_fc.weight"].T + f[b + "mlp.c_fc.bias"])
            x = x + h @ f[b + "mlp.c_proj.weight"].T + f[b + "mlp.c_proj.bias"]
        return ln(x, (width,), f["ln_final.weight"], f["ln_final.bias"])


def wrong_variants(spec, models, io, res, ckpt):
    """How far wrong readings land: a parity test must fail on each."""
    wrong = {}
    unet = UNet2DConditionModel(**spec["unet"]).eval()
    unet.load_state_dict(models["unet"].state_dict())
    unet_cond.heads_as_head_width(unet)
    wrong["unet_attention_head_dim_read_as_head_width"] = float(
        (unet_outputs(unet, io)["unet_output"] - res["unet_output"]).abs().max())
    vae = AutoencoderKL(**VAE).eval()
    vae.load_state_dict(models["vae"].state_dict())
    with torch.no_grad():  # LDM's q/k/v 1x1 convs squeezed the wrong way round ([C_in, C_out])
        for m in vae.modules():
            if isinstance(m, Attention):
                for lin in (m.to_q, m.to_k, m.to_v, m.to_out[0]):
                    lin.weight.copy_(lin.weight.T.clone())
    wrong["vae_attention_weights_transposed"] = max_diff(
        {k: res[k] for k in ("vae_decoded", "vae_moments")}, vae_outputs(vae, io))
    if spec["family"] == "sd2":
        ids = io["input_ids"]
        heads = spec["text"]["num_attention_heads"]
        n = spec["text"]["num_hidden_layers"]
        wrong["text_all_resblocks_kept"] = float(
            (openclip_reference(ckpt, ids, n + 1, heads) - res["text_last_hidden_state"]).abs().max())
        swapped = dict(ckpt)
        for k in ckpt:
            if k.endswith("attn.in_proj_weight") or k.endswith("attn.in_proj_bias"):
                q, kk, v = ckpt[k].chunk(3, 0)
                swapped[k] = torch.cat([kk, q, v], 0)
        wrong["text_in_proj_read_as_k_q_v"] = float(
            (openclip_reference(swapped, ids, n, heads) - res["text_last_hidden_state"]).abs().max())
    return wrong


# ---------------------------------------------------------------- one checkpoint
def key_counts(ckpt):
    groups = {}
    for k in ckpt:
        if k.startswith(UNET_P):
            g = UNET_P + k[len(UNET_P):].split(".")[0]
        elif k.startswith(VAE_P):
            g = VAE_P + k[len(VAE_P):].split(".")[0]
        elif k.startswith(CLIP_P):
            g = CLIP_P + "text_model"
        elif k.startswith(OPENCLIP_P):
            rest = k[len(OPENCLIP_P):]
            g = OPENCLIP_P + ("transformer.resblocks" if rest.startswith("transformer.") else rest.split(".")[0])
        elif k.startswith("model_ema."):
            g = "model_ema.*"
        else:
            g = "(LDM DDPM schedule buffers, no prefix)"
        groups[g] = groups.get(g, 0) + 1
    return dict(sorted(groups.items()))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def make_one(out_root, spec, ids):
    name = spec["name"]
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out_root, name + ".safetensors")
    unet, vae, text, tower, extra, perturbed = make_models(spec)
    models = {"unet": unet, "vae": vae, "text_encoder": text}
    st = build_checkpoint(spec, unet, vae, tower, extra)
    common.st_io.save_file(st, path, metadata={"format": "pt"})

    # the file as written, through diffusers' own conversion functions
    ckpt = common.st_io.load_file(path)
    assert ckpt.keys() == st.keys() and all(torch.equal(ckpt[k], st[k]) for k in st)
    conv = convert_all(spec, ckpt, unet, vae, text)
    comparison = compare_conversion(conv, models)
    kmap = key_map(spec, ckpt, unet, vae, text, conv)
    model_keys = {c: set(m.state_dict()) for c, m in models.items()}
    ignored = sorted(k for k, v in kmap.items() if not v)
    dropped = sorted(k for k, v in kmap.items() if v and all(f.split(":", 1)[1] not in model_keys[f.split(":")[0]]
                                                                 for f in v))
    transforms = sorted({t for v in kmap.values() for t in v.values()})
    fed = {}
    for k, v in kmap.items():
        for f in v:
            comp, dk = f.split(":", 1)
            if dk in model_keys[comp]:
                fed.setdefault(f, []).append(k)
    for comp, keys in model_keys.items():  # every model weight comes from exactly one file key
        for dk in keys:
            assert len(fed.get(f"{comp}:{dk}", [])) == 1, (comp, dk, fed.get(f"{comp}:{dk}"))
    inferred = infer_configs(ckpt, spec["family"])
    check_inferred(inferred, unet, vae, text)

    loaded = from_single_file(spec, path, unet, vae, text)
    lmodels = {"unet": loaded.unet, "vae": loaded.vae, "text_encoder": loaded.text_encoder}

    gen = torch.Generator().manual_seed(spec["seed"] + 2)
    io = {"input_ids": ids}
    res = text_outputs(lmodels["text_encoder"], ids)
    io.update({"unet_sample": torch.randn(1, 4, 8, 8, generator=gen),
               "unet_timestep": torch.tensor([TIMESTEP], dtype=torch.float32),
               "unet_encoder_hidden_states": res["text_last_hidden_state"][0:1].clone(),
               "vae_latent": torch.randn(1, 4, 8, 8, generator=gen),
               "vae_image": torch.rand(1, 3, 16, 16, generator=gen) * 2 - 1})
    res = all_outputs(lmodels, io)
    assert all(torch.equal(res[k], v) for k, v in all_outputs(models, io).items()), "originals differ from loaded"
    io_all = {**io, **res}
    common.st_io.save_file({k: v.contiguous() for k, v in io_all.items()}, os.path.join(out, common.IO))

    dead = params_without_effect(lmodels, io)
    assert not dead, f"parameters without effect: {dead}"
    wrong = wrong_variants(spec, lmodels, io, res, ckpt)
    checks = {}
    if spec["family"] == "sd2":
        checks["text_projection_probe"] = text_projection_probe(spec, ckpt, unet, vae, text, conv)
        ref = openclip_reference(ckpt, ids, spec["text"]["num_hidden_layers"], spec["text"]["num_attention_heads"])
        checks["max_abs_diff_text_vs_torch_MultiheadAttention_openclip_penultimate"] = float(
            (ref - res["text_last_hidden_state"]).abs().max())
        assert checks["max_abs_diff_text_vs_torch_MultiheadAttention_openclip_penultimate"] < 1e-5

    with open(os.path.join(out, "unet_config.json"), "w") as f:
        f.write(unet.to_json_string())
    with open(os.path.join(out, "vae_config.json"), "w") as f:
        f.write(vae.to_json_string())
    text.config.to_json_file(os.path.join(out, "text_encoder_config.json"), use_diff=True)
    write_json(os.path.join(out, "key_map.json"), kmap)

    meta = {
        "diffusers_version": common.diffusers.__version__,
        "diffusers_commit": common.diffusers_commit(),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "file": name + ".safetensors",
        "file_dtype": str(spec["dtype"]).replace("torch.", "") + " (floating tensors; model_ema.num_updates int32"
                      + (", position_ids int64" if spec["family"] == "sd1" else "") + ")",
        "file_metadata": {"format": "pt"},
        "file_bytes": os.path.getsize(path),
        "family": spec["family"],
        "seed": spec["seed"],
        "n_keys": len(ckpt),
        "keys_by_prefix": key_counts(ckpt),
        "components": {
            "unet": {"constructor_kwargs": spec["unet"], "n_params": sum(p.numel() for p in unet.parameters())},
            "vae": {"constructor_kwargs": VAE, "n_params": sum(p.numel() for p in vae.parameters())},
            "text_encoder": {"config_kwargs": spec["text"], "n_params": sum(p.numel() for p in text.parameters()),
                             "class": "CLIPTextModel"},
        },
        "perturbed_constant_params": {"counts": perturbed, "rule": "param was constant at init -> += 0.2*N(0,1)"},
        "sharpened_attention": "every to_q/to_k (U-Net, VAE) and q_proj/k_proj (text) weight x3",
        "widened_embeddings": "the text encoder's token and position embeddings redrawn as 0.5*N(0,1)",
        "checks": {
            "diffusers_conversion_round_trip": comparison,
            "every_model_weight_fed_by_exactly_one_file_key": True,
            "from_single_file": "StableDiffusionPipeline.from_single_file(file, config=<temporary folder with "
                                "save_pretrained's configs, tokenizer and scheduler, the weights deleted>): every "
                                "U-Net, VAE and text encoder tensor equal to the original's (float32 parameters "
                                "whatever the file's dtype); io's outputs are that pipeline's modules'",
            "configs_inferred_from_keys_and_shapes": inferred,
            "params_without_effect": dead,
            "params_without_effect_by_design": "every key bias (text self_attn.k_proj.bias, the VAE's to_k.bias): the "
                                               "softmax cancels it",
            **checks,
        },
        "not_in_the_file_tiny_rules": TINY_RULES[spec["family"]],
        "keys_diffusers_ignores": ignored,
        "transforms_in_key_map": transforms,
        "keys_converted_but_dropped_by_load_state_dict_strict_false": dropped,
        "io_tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "doc": IO_DOC[k]}
                       for k, v in io_all.items()},
        "max_abs_output": {k: float(v.abs().max()) for k, v in res.items()},
        "max_abs_diff_of_wrong_variants": wrong,
        "scheduler_in_the_config_folder": {"class": "DDIMScheduler", **DDIM, **spec["scheduler"],
                                           "note": "not in the file: from_single_file takes it from the config "
                                                   "folder (by default the hub repo infer_diffusers_model_type names)"},
        "sha256": {name + ".safetensors": common.sha256(path), common.IO: common.sha256(os.path.join(out, common.IO))},
    }
    return ckpt, meta


def main():
    common.deterministic_torch()
    out_root = common.fixture_root("sd_single_file")
    os.makedirs(out_root, exist_ok=True)
    ids = clip_text.input_ids(torch.Generator().manual_seed(77))
    tiny, metas = {}, {}
    for spec in SPECS:
        tiny[spec["name"]], metas[spec["name"]] = make_one(out_root, spec, ids)
    decisions = diffusers_decisions(tiny)
    for name, meta in metas.items():
        meta["diffusers_decisions_from_keys"] = decisions
        meta["diffusers_rules"] = DIFFUSERS_RULES
        meta["mapping_rules"] = "MAPPING.md (next to the fixtures); key_map.json lists every key of this file"
        write_json(os.path.join(out_root, name, "meta.json"), meta)
        print(f"== {name}: {meta['file_bytes']} bytes, {meta['n_keys']} keys, {meta['file_dtype']}")
        print("   keys by prefix:", meta["keys_by_prefix"])
        print("   ignored by diffusers:", len(meta["keys_diffusers_ignores"]), meta["keys_diffusers_ignores"][:20])
        print("   converted but dropped:", meta["keys_converted_but_dropped_by_load_state_dict_strict_false"])
        print("   round trip:", {c: (v["model_keys"], v["all_equal"], v["converted_keys_not_in_model"])
                                 for c, v in meta["checks"]["diffusers_conversion_round_trip"].items()})
        print("   max |output|:", meta["max_abs_output"])
        print("   wrong variants:", meta["max_abs_diff_of_wrong_variants"])
        extra = {k: v for k, v in meta["checks"].items() if k.startswith("max_abs")}
        if extra:
            print("  ", extra)
        print("   sha256:", meta["sha256"])
    print("== diffusers' decisions:", json.dumps(decisions, indent=1))


if __name__ == "__main__":
    main()
