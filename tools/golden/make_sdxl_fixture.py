#!/usr/bin/env python
"""Golden reference runs of diffusers' StableDiffusionXLPipeline (text to image) on a whole tiny SDXL-like model folder,
laid out by StableDiffusionXLPipeline.save_pretrained itself: model_index.json, unet/, vae/, text_encoder/,
text_encoder_2/, tokenizer/, tokenizer_2/, scheduler/ (no image encoder, no feature extractor, no watermarker).

Components (all float32, random, every constant-initialised parameter perturbed, attention q/k scaled up):
  unet            UNet2DConditionModel shaped like SDXL's: 3 levels (DownBlock2D, CrossAttnDownBlock2D x2 / mirrored
                  up blocks), block_out_channels UNET_BLOCK_OUT_CHANNELS, transformer_layers_per_block per level
                  (1, 1, 2) (SDXL: 1, 2, 10), attention_head_dim per level (1, 2, 3) read by diffusers as head counts
                  (8-wide heads, as SDXL's (5, 10, 20) give 64-wide ones), linear projections, addition_embed_type
                  "text_time" with addition_time_embed_dim 8, projection_class_embeddings_input_dim 40 + 6*8 = 88,
                  cross_attention_dim 32 + 48 = 80 (the two encoders' widths, concatenated)
  vae             AutoencoderKL as the SD fixture's (block_out_channels (16, 32): scale factor 2) with SDXL's
                  scaling_factor 0.13025 and force_upcast true; its conv_out is scaled so that few pixels clamp
  text_encoder    transformers' CLIPTextModel: hidden 32, 3 layers, 4 heads, quick_gelu (as SDXL's CLIP ViT-L)
  text_encoder_2  transformers' CLIPTextModelWithProjection: hidden 48, 3 layers, 6 heads, gelu, projection_dim 40
                  (as SDXL's OpenCLIP bigG); both carry SDXL's legacy eos_token_id 2 (pooling at the argmax of the ids)
  tokenizer       the SD fixture's tiny slow CLIPTokenizer (661-token BPE vocabulary), pad_token "<|endoftext|>"
  tokenizer_2     the same vocabulary with pad_token "!" (id 0), as SDXL's second tokenizer
  scheduler       EulerDiscreteScheduler with SDXL's settings (case b's DPM-Solver config is in cases.json)

Each case runs the pipeline (reloaded from the folder by StableDiffusionXLPipeline.from_pretrained) with a
torch.Generator("cpu").manual_seed(seed), 32x32 images (16x16 latents), output_type "pt", and records what it drew and
computed (see CASE_DOC) in cases/<name>.safetensors, its arguments and scheduler config in cases.json. modules.safetensors
holds the U-Net alone on fixed inputs with added_cond_kwargs (and its added-embedding intermediates) and the two text
encoders alone on case a's prompt; meta.json holds the provenance, the conditioning path as diffusers computes it (with
file:line citations, checked against the source when the script runs), which parameters matter and how far wrong
readings land.

Runs offline with only torch installed: diffusers' source at DIFFUSERS_COMMIT in ./src, transformers 4.57.6 from its
wheel extracted to /tmp/tf-src (or $TRANSFORMERS_SRC), behind the stubs of hf_stubs.install_transformers().

Usage:  /tmp/venv/bin/python make_sdxl_fixture.py [OUT_DIR]   (default core/src/test/resources/golden/sdxl_pipeline)
"""
import collections
import json
import os
import shutil

import hf_stubs

hf_stubs.install_transformers()  # before golden_common, which imports diffusers

import golden_common as common  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import (AutoencoderKL, DPMSolverMultistepScheduler, EulerDiscreteScheduler,  # noqa: E402
                       StableDiffusionXLPipeline, UNet2DConditionModel)
from diffusers.pipelines.stable_diffusion_xl import pipeline_stable_diffusion_xl as sdxl_module  # noqa: E402
from diffusers.schedulers import scheduling_dpmsolver_multistep, scheduling_euler_discrete  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer  # noqa: E402

import make_clip_text_fixture as clip_text  # noqa: E402
from make_sd_pipeline_fixture import PipelineRecorder  # noqa: E402
import make_unet_cond_fixture as unet_cond  # noqa: E402
from make_clip_tokenizer_fixture import EOS  # noqa: E402

SD_TOKENIZER = os.path.join(common.HERE, "..", "..", "core", "src", "test", "resources", "golden", "sd_pipeline",
                            "tokenizer")
SEED = 2026
SIZE = 32  # image side; the VAE's two levels give a scale factor of 2, so the latents are 16x16
LATENT = SIZE // 2
MODULES = "modules.safetensors"

# The brief suggested (16, 32, 48) with norm_num_groups 8: with SDXL's block layout that U-Net is 3.7 MB (0.92 M
# parameters), (16, 24, 32) still 1.9 MB. (8, 16, 24) keeps every level's channel change (so every level's first
# resnet has a conv_shortcut, as in SDXL) at 1.0 MB; 4 groups keep two or more channels in every GroupNorm group.
UNET_BLOCK_OUT_CHANNELS = (8, 16, 24)
UNET_NORM_GROUPS = 4
ADDITION_TIME_EMBED_DIM = 8
TEXT = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=3,
            max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, eos_token_id=2, pad_token_id=1)
TEXT_2 = dict(hidden_size=48, intermediate_size=53, num_attention_heads=6, num_hidden_layers=3,
              max_position_embeddings=77, hidden_act="gelu", layer_norm_eps=1e-5, eos_token_id=2, pad_token_id=1,
              projection_dim=40)
UNET = dict(sample_size=LATENT, in_channels=4, out_channels=4, block_out_channels=UNET_BLOCK_OUT_CHANNELS,
            layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            transformer_layers_per_block=[1, 1, 2], attention_head_dim=[1, 2, 3], use_linear_projection=True,
            norm_num_groups=UNET_NORM_GROUPS, cross_attention_dim=TEXT["hidden_size"] + TEXT_2["hidden_size"],
            addition_embed_type="text_time", addition_time_embed_dim=ADDITION_TIME_EMBED_DIM,
            projection_class_embeddings_input_dim=TEXT_2["projection_dim"] + 6 * ADDITION_TIME_EMBED_DIM)
VAE = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
           up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), block_out_channels=(16, 32), layers_per_block=1,
           latent_channels=4, norm_num_groups=8, sample_size=SIZE, scaling_factor=0.13025, force_upcast=True)
# SDXL base 1.0's scheduler_config.json, less the keys EulerDiscreteScheduler does not take (clip_sample,
# set_alpha_to_one, skip_prk_steps, sample_max_value: DDPM leftovers diffusers ignores on loading)
EULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
             prediction_type="epsilon", interpolation_type="linear", use_karras_sigmas=False, steps_offset=1,
             timestep_spacing="leading")

CASES = [
    dict(name="a_euler_negative_sizes", scheduler=EulerDiscreteScheduler, overrides={},
         prompt="a red cube on a table", negative_prompt="blurry", seed=42, steps=3, guidance=5.0,
         original_size=(48, 40), crops_coords_top_left=(2, 6), target_size=(32, 24)),
    dict(name="b_dpmpp_2m_karras_no_negative", scheduler=DPMSolverMultistepScheduler,
         overrides=dict(algorithm_type="dpmsolver++", use_karras_sigmas=True),
         prompt="a castle", negative_prompt=None, seed=7, steps=3, guidance=5.0,
         original_size=None, crops_coords_top_left=None, target_size=None),
]

CASE_DOC = {
    "initial_latents": "[B,4,16,16] the noise prepare_latents drew (randn_tensor with the case's generator), BEFORE "
                       "the multiplication by scheduler.init_noise_sigma",
    "prompt_embeds": "[B,77,80] encode_prompt's prompt_embeds: text_encoder's hidden_states[-2] (32) then "
                     "text_encoder_2's hidden_states[-2] (48), concatenated on the last axis",
    "negative_prompt_embeds": "[B,77,80] the same for the negative prompt, or zeros (force_zeros_for_empty_prompt, "
                              "no negative prompt)",
    "pooled_prompt_embeds": "[B,40] text_encoder_2's text_embeds (text_projection of the EOS position's final-normed "
                            "state)",
    "negative_pooled_prompt_embeds": "[B,40] the same for the negative prompt, or zeros",
    "add_time_ids": "[B,6] float32, the U-Net's time_ids for the prompt half: original_size (h, w) + "
                    "crops_coords_top_left (top, left) + target_size (h, w)",
    "negative_add_time_ids": "[B,6] the U-Net's time_ids for the unconditional half (== add_time_ids unless "
                             "negative_original_size/negative_target_size are given)",
    "timesteps": "float32 [S]: scheduler.timesteps after set_timesteps (the values given to the U-Net)",
    "sigmas": "float32 [S+1]: scheduler.sigmas (the last is 0)",
    "init_noise_sigma": "float32 [1]: scheduler.init_noise_sigma",
    "unet_inputs": "[S,2B,4,16,16] per step: scheduler.scale_model_input(cat([latents]*2), t) (uncond half first); "
                   "the U-Net also gets encoder_hidden_states cat([negative_prompt_embeds, prompt_embeds]) and "
                   "added_cond_kwargs text_embeds cat([negative_pooled, pooled]), time_ids cat([negative_add_time_ids, "
                   "add_time_ids]), the same at every step",
    "unet_outputs": "[S,2B,4,16,16] per step: the U-Net's output, before guidance (uncond half first)",
    "step_latents": "[S,B,4,16,16] per step: the latents after scheduler.step",
    "final_latents": "[B,4,16,16] the latents after the last step (== output_type='latent')",
    "image": "[B,3,32,32] in [0,1]: output_type='pt' (vae.decode(latents / 0.13025), then (x/2+0.5).clamp(0,1))",
}

MODULES_DOC = {
    "unet_sample": "[2,4,16,16] N(0,1)",
    "unet_timestep": "float32 [2]",
    "unet_encoder_hidden_states": "[2,11,80] N(0,1) (any token count works)",
    "unet_text_embeds": "[2,40] N(0,1): added_cond_kwargs['text_embeds']",
    "unet_time_ids": "[2,6] float32: added_cond_kwargs['time_ids'], distinct values in every slot",
    "unet_expected": "unet(sample, timestep, encoder_hidden_states, added_cond_kwargs={text_embeds, time_ids}).sample",
    "unet_time_emb": "[2,32] intermediate: unet.time_embedding(unet.time_proj(timestep)) (8 sinusoids, flip_sin_to_cos)",
    "unet_add_embeds": "[2,88] intermediate: cat([text_embeds, add_time_proj(time_ids.flatten()).reshape(2, 48)], -1), "
                       "the input of add_embedding",
    "unet_aug_emb": "[2,32] intermediate: add_embedding(unet_add_embeds) (linear_1, SiLU, linear_2); the resnets get "
                    "unet_time_emb + unet_aug_emb",
    "text_encoder_input_ids": "int64 [1,77] tokenizer(case a prompt) padded with <|endoftext|>",
    "text_encoder_penultimate": "[1,77,32] text_encoder(ids, output_hidden_states=True).hidden_states[-2] "
                                "(no final_layer_norm)",
    "text_encoder_2_input_ids": "int64 [1,77] tokenizer_2(case a prompt) padded with '!' (id 0)",
    "text_encoder_2_penultimate": "[1,77,48] text_encoder_2(...).hidden_states[-2] (no final_layer_norm)",
    "text_encoder_2_last_hidden_state": "[1,77,48] text_encoder_2(...).last_hidden_state (final_layer_norm applied)",
    "text_encoder_2_text_embeds": "[1,40] text_encoder_2(...).text_embeds == case a's pooled_prompt_embeds",
}

# Where diffusers (and transformers) compute SDXL's conditioning; every snippet is checked against its line below
DIFFUSERS_SRC = os.path.join(common.HERE, "src")
PIPE = "src/diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py"
UNET_PY = "src/diffusers/models/unets/unet_2d_condition.py"
EMB = "src/diffusers/models/embeddings.py"
RESNET = "src/diffusers/models/resnet.py"
CLIP = "transformers/models/clip/modeling_clip.py"
CITES = {
    "encoders": (PIPE, 381, "for prompt, tokenizer, text_encoder in zip(prompts, tokenizers, text_encoders):"),
    "tokenize": (PIPE, 387, 'padding="max_length",'),
    "encode": (PIPE, 405, "prompt_embeds = text_encoder(text_input_ids.to(device), output_hidden_states=True)"),
    "pooled": (PIPE, 409, "pooled_prompt_embeds = prompt_embeds[0]"),
    "penultimate": (PIPE, 412, "prompt_embeds = prompt_embeds.hidden_states[-2]"),
    "concat": (PIPE, 419, "prompt_embeds = torch.concat(prompt_embeds_list, dim=-1)"),
    "force_zeros": (PIPE, 422, "zero_out_negative_prompt = negative_prompt is None and self.config.force_zeros_for_empty_prompt"),
    "zeros": (PIPE, 424, "negative_prompt_embeds = torch.zeros_like(prompt_embeds)"),
    "zeros_pooled": (PIPE, 425, "negative_pooled_prompt_embeds = torch.zeros_like(pooled_prompt_embeds)"),
    "negative_penultimate": (PIPE, 473, "negative_prompt_embeds = negative_prompt_embeds.hidden_states[-2]"),
    "time_ids_layout": (PIPE, 732, "add_time_ids = list(original_size + crops_coords_top_left + target_size)"),
    "time_ids_check": (PIPE, 735, "self.unet.config.addition_time_embed_dim * len(add_time_ids) + text_encoder_projection_dim"),
    "size_defaults": (PIPE, 1033, "original_size = original_size or (height, width)"),
    "target_default": (PIPE, 1034, "target_size = target_size or (height, width)"),
    "negative_time_ids": (PIPE, 1146, "negative_add_time_ids = add_time_ids"),
    "cfg_embeds": (PIPE, 1149, "prompt_embeds = torch.cat([negative_prompt_embeds, prompt_embeds], dim=0)"),
    "cfg_pooled": (PIPE, 1150, "add_text_embeds = torch.cat([negative_pooled_prompt_embeds, add_text_embeds], dim=0)"),
    "cfg_time_ids": (PIPE, 1151, "add_time_ids = torch.cat([negative_add_time_ids, add_time_ids], dim=0)"),
    "time_ids_repeat": (PIPE, 1155, "add_time_ids = add_time_ids.to(device).repeat(batch_size * num_images_per_prompt, 1)"),
    "added_cond_kwargs": (PIPE, 1206, 'added_cond_kwargs = {"text_embeds": add_text_embeds, "time_ids": add_time_ids}'),
    "add_time_proj": (UNET_PY, 684, "self.add_time_proj = Timesteps(addition_time_embed_dim, flip_sin_to_cos, freq_shift)"),
    "add_embedding": (UNET_PY, 685, "self.add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim, time_embed_dim)"),
    "time_embeds": (UNET_PY, 918, "time_embeds = self.add_time_proj(time_ids.flatten())"),
    "time_embeds_reshape": (UNET_PY, 919, "time_embeds = time_embeds.reshape((text_embeds.shape[0], -1))"),
    "add_embeds": (UNET_PY, 920, "add_embeds = torch.concat([text_embeds, time_embeds], dim=-1)"),
    "aug_emb": (UNET_PY, 922, "aug_emb = self.add_embedding(add_embeds)"),
    "t_emb": (UNET_PY, 1081, "t_emb = self.get_time_embed(sample=sample, timestep=timestep)"),
    "emb": (UNET_PY, 1082, "emb = self.time_embedding(t_emb, timestep_cond)"),
    "emb_plus_aug": (UNET_PY, 1098, "emb = emb + aug_emb if aug_emb is not None else emb"),
    "time_embed_act": (UNET_PY, 1100, "if self.time_embed_act is not None:"),
    "temb_to_blocks": (UNET_PY, 1145, "temb=emb,"),
    "timestep_embedding_concat": (EMB, 69, "emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)"),
    "timestep_embedding_flip": (EMB, 73, "emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)"),
    "linear_1": (EMB, 1298, "sample = self.linear_1(sample)"),
    "linear_2": (EMB, 1303, "sample = self.linear_2(sample)"),
    "resnet_temb": (RESNET, 344, "temb = self.nonlinearity(temb)"),
    "resnet_temb_proj": (RESNET, 345, "temb = self.time_emb_proj(temb)[:, :, None, None]"),
    "clip_hidden_states": (CLIP, 548, "encoder_states = encoder_states + (hidden_states,)"),
    "clip_last_state": (CLIP, 562, "encoder_states = encoder_states + (hidden_states,)"),
    "clip_final_norm": (CLIP, 625, "last_hidden_state = self.final_layer_norm(last_hidden_state)"),
    "clip_argmax_pool": (CLIP, 627, "if self.eos_token_id == 2:"),
    "clip_projection": (CLIP, 1087, "text_embeds = self.text_projection(pooled_output)"),
}

CONDITIONING = {
    "prompt_embeds": "Each prompt goes through both tokenizers (padding='max_length' to 77, truncation) and both "
                     "encoders, called with output_hidden_states=True [encoders, tokenize, encode]. From each, diffusers "
                     "takes hidden_states[-2] [penultimate]: transformers' hidden_states are the embeddings' output "
                     "then every layer's output [clip_hidden_states, clip_last_state], so [-2] is the output of the "
                     "second-to-last layer, and final_layer_norm is applied only to last_hidden_state [clip_final_norm]: "
                     "the penultimate states are NOT normalised. The two are concatenated on the last (feature) axis, "
                     "text_encoder's first [concat]: [B,77,32] + [B,77,48] -> [B,77,80] (SDXL: 768 + 1280 = 2048). "
                     "text_encoder's last layer and final_layer_norm therefore take no part in SDXL. A negative prompt "
                     "takes the same path [negative_penultimate] (clip_skip does not apply to it).",
    "pooled_prompt_embeds": "Only the encoder whose output[0] is 2-D gives the pooled vector, i.e. "
                            "CLIPTextModelWithProjection's text_embeds [pooled]: text_encoder_2's final-normed "
                            "last_hidden_state at the EOS position (eos_token_id 2: the argmax of the ids) "
                            "[clip_argmax_pool] through text_projection (no bias) [clip_projection]: [B,40] "
                            "(SDXL: 1280).",
    "negative": "Without a negative prompt and with force_zeros_for_empty_prompt (SDXL base's config: true), "
                "negative_prompt_embeds and negative_pooled_prompt_embeds are zeros, not the encoding of \"\" "
                "[force_zeros, zeros, zeros_pooled].",
    "add_time_ids": "list(original_size + crops_coords_top_left + target_size) as float [time_ids_layout]: "
                    "(orig_h, orig_w, crop_top, crop_left, target_h, target_w); original_size and target_size default "
                    "to (height, width) and crops_coords_top_left to (0, 0) [size_defaults, target_default]; the "
                    "unconditional half gets the same ids unless negative_original_size and negative_target_size are "
                    "given [negative_time_ids]. The pipeline checks addition_time_embed_dim * 6 + projection_dim == "
                    "add_embedding.linear_1.in_features [time_ids_check].",
    "cfg_batch": "With guidance the U-Net's batch is [uncond; cond] for encoder_hidden_states, text_embeds and time_ids "
                 "alike [cfg_embeds, cfg_pooled, cfg_time_ids]; time_ids is then repeat()ed batch_size * "
                 "num_images_per_prompt times as a whole [time_ids_repeat] (rows neg, pos, neg, pos, ... while the "
                 "embeddings are neg x N then pos x N: only the same when the two halves' ids are equal, as by default), "
                 "and handed over as added_cond_kwargs {text_embeds, time_ids} [added_cond_kwargs].",
    "unet_added_embedding": "addition_embed_type 'text_time': add_time_proj = Timesteps(addition_time_embed_dim, "
                            "flip_sin_to_cos, freq_shift) [add_time_proj], i.e. the same sinusoids as the timestep's "
                            "(sin then cos, then flipped to cos|sin with flip_sin_to_cos true, freq_shift 0, max period "
                            "10000) [timestep_embedding_concat, timestep_embedding_flip], applied to each of the 6 ids "
                            "on its own (time_ids.flatten()) [time_embeds] and reshaped to [B, 6*dim] in id order "
                            "[time_embeds_reshape]; then cat([text_embeds, time_embeds], -1) (pooled first) "
                            "[add_embeds] through add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim,"
                            " time_embed_dim): linear_1, SiLU, linear_2 [add_embedding, aug_emb, linear_1, linear_2].",
    "unet_sum": "The timestep's embedding emb = time_embedding(time_proj(t)) [t_emb, emb]; emb = emb + aug_emb "
                "[emb_plus_aug] BEFORE anything uses it (time_embed_act is None for SDXL [time_embed_act]); that sum "
                "is the temb every down, mid and up block's resnets get [temb_to_blocks], each taking SiLU(temb) "
                "through its own time_emb_proj [resnet_temb, resnet_temb_proj].",
}


def check_cites():
    """Each citation's snippet must be on its line (diffusers' source in ./src, transformers' in its extracted wheel)."""
    tf_src = os.environ.get("TRANSFORMERS_SRC", hf_stubs.TRANSFORMERS_SRC)
    out = {}
    for key, (path, line, snippet) in CITES.items():
        root = tf_src if path.startswith("transformers/") else common.HERE
        lines = open(os.path.join(root, path)).read().split("\n")
        assert snippet in lines[line - 1], f"{key}: {path}:{line} is {lines[line - 1]!r}, not {snippet!r}"
        where = f"{path}:{line}" if root == common.HERE else f"transformers-4.57.6/{path}:{line}"
        out[key] = {"at": where, "code": lines[line - 1].strip()}
    return out


def make_tokenizers():
    """The SD fixture's tiny vocabulary: tokenizer as it is (pad <|endoftext|>), tokenizer_2 with pad "!" (SDXL's)."""
    files = [os.path.join(SD_TOKENIZER, f) for f in ("vocab.json", "merges.txt")]
    # built from the files as make_sd_pipeline_fixture.py built that tokenizer, not by from_pretrained: a slow
    # tokenizer loaded by from_pretrained shares one AddedToken between eos_token and unk_token, and without
    # tokenizers transformers' own AddedToken.__getstate__ returns its __dict__, from which save_pretrained pops
    # "special" once per reference (KeyError at the second)
    tok = CLIPTokenizer(*files, pad_token=EOS, model_max_length=77)
    tok_2 = CLIPTokenizer(*files, pad_token="!", model_max_length=77)
    assert tok_2.pad_token_id == tok.get_vocab()["!"], "the tiny vocabulary lacks '!'"
    return tok, tok_2


def make_components(vocab, bos_id):
    gen = torch.Generator().manual_seed(SEED + 1)
    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(**UNET).eval()
    vae = AutoencoderKL(**VAE).eval()
    text_encoder = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), bos_token_id=bos_id, **TEXT)).eval()
    text_encoder_2 = CLIPTextModelWithProjection(
        CLIPTextConfig(vocab_size=len(vocab), bos_token_id=bos_id, **TEXT_2)).eval()
    mods = (("unet", unet), ("vae", vae), ("text_encoder", text_encoder), ("text_encoder_2", text_encoder_2))
    perturbed = {name: len(common.perturb_constant_params(m, gen)) for name, m in mods}
    unet_cond.sharpen_attention(unet)
    unet_cond.sharpen_attention(vae)
    for te in (text_encoder, text_encoder_2):
        clip_text.widen_embeddings(te, gen)
        clip_text.sharpen_attention(te)
    # the decoder's output is x in [-1, 1] before (x/2+0.5).clamp(0,1): scale conv_out so that a decoded N(0,1) latent
    # has std 0.5 and few pixels clamp
    with torch.no_grad():
        z = torch.randn(4, 4, LATENT, LATENT, generator=gen) / VAE["scaling_factor"]
        std = float(vae.decode(z).sample.std())
        vae.decoder.conv_out.weight.mul_(0.5 / std)
        vae.decoder.conv_out.bias.mul_(0.5 / std)
    return unet, vae, text_encoder, text_encoder_2, perturbed, 0.5 / std


def Recorder(pipe):
    """The SD fixture's recorder on the SDXL pipeline: any scheduler draw under `scheduler_noise`."""
    return PipelineRecorder(pipe, sdxl_module, (scheduling_euler_discrete, scheduling_dpmsolver_multistep), "scheduler_noise")


def set_scheduler(pipe, case):
    pipe.scheduler = case["scheduler"].from_config(EulerDiscreteScheduler(**EULER).config, **case["overrides"])


def call(pipe, case, output_type="pt", recorder=None):
    kwargs = dict(prompt=case["prompt"], negative_prompt=case["negative_prompt"], height=SIZE, width=SIZE,
                  num_inference_steps=case["steps"], guidance_scale=case["guidance"],
                  generator=torch.Generator("cpu").manual_seed(case["seed"]), output_type=output_type)
    for k in ("original_size", "crops_coords_top_left", "target_size"):  # given only when the case sets them
        if case[k] is not None:
            kwargs[k] = case[k]
    if recorder is not None:
        kwargs["callback_on_step_end"] = recorder.callback
    with torch.no_grad():
        return pipe(**kwargs).images


def run_case(pipe, case):
    set_scheduler(pipe, case)
    with Recorder(pipe) as r:
        image = call(pipe, case, recorder=r)
    rec = r.rec
    sched = pipe.scheduler
    assert len(rec["initial_latents"]) == 1 and len(rec["encode_prompt"]) == 1
    assert not rec["scheduler_noise"], "these schedulers draw no noise"
    pos, neg, pooled, neg_pooled = rec["encode_prompt"][0]
    b = pos.shape[0]
    # the U-Net gets the same conditioning at every step, uncond half first
    for k, want in (("unet_encoder_hidden_states", torch.cat([neg, pos])),
                    ("unet_text_embeds", torch.cat([neg_pooled, pooled]))):
        assert all(torch.equal(x, want) for x in rec[k]), k
    time_ids = rec["unet_time_ids"][0]
    assert all(torch.equal(x, time_ids) for x in rec["unet_time_ids"]) and time_ids.dtype == torch.float32
    t = {
        "initial_latents": rec["initial_latents"][0],
        "prompt_embeds": pos,
        "negative_prompt_embeds": neg,
        "pooled_prompt_embeds": pooled,
        "negative_pooled_prompt_embeds": neg_pooled,
        "add_time_ids": time_ids[b:],
        "negative_add_time_ids": time_ids[:b],
        "timesteps": sched.timesteps.to(torch.float32),
        "sigmas": sched.sigmas.to(torch.float32),
        "init_noise_sigma": torch.tensor([float(sched.init_noise_sigma)], dtype=torch.float32),
        "unet_inputs": torch.stack(rec["unet_inputs"]),
        "unet_outputs": torch.stack(rec["unet_outputs"]),
        "step_latents": torch.stack(rec["step_latents"]),
        "final_latents": rec["step_latents"][-1],
        "image": image,
    }
    # the same call with output_type="latent" returns the final latents
    set_scheduler(pipe, case)
    latent = call(pipe, case, output_type="latent")
    assert torch.equal(latent, t["final_latents"]), "output_type='latent' differs from the last step's latents"
    zeros = bool((neg == 0).all()) and bool((neg_pooled == 0).all())
    info = {
        "add_time_ids": [float(x) for x in t["add_time_ids"][0]],
        "negative_add_time_ids": [float(x) for x in t["negative_add_time_ids"][0]],
        "timesteps": [float(x) for x in sched.timesteps],
        "timesteps_dtype": str(sched.timesteps.dtype).replace("torch.", ""),
        "unet_timestep_dtype": str(rec["unet_timestep_arg"][0].dtype).replace("torch.", ""),
        "sigmas": [float(x) for x in sched.sigmas],
        "init_noise_sigma": float(sched.init_noise_sigma),
        "scheduler_draws_from_generator": len(rec["scheduler_noise"]),
        "negative_embeds_are_zeros": zeros,
        "image_fraction_clamped": float(((image <= 0) | (image >= 1)).float().mean()),
        "max_abs_final_latents": float(t["final_latents"].abs().max()),
    }
    return t, info


def force_zeros_effect(pipe, case, tensors):
    """Case b again with force_zeros_for_empty_prompt false: the unconditional half is then the encoding of ""."""
    pipe.register_to_config(force_zeros_for_empty_prompt=False)
    try:
        set_scheduler(pipe, case)
        with Recorder(pipe) as r:
            image = call(pipe, case, recorder=r)
    finally:
        pipe.register_to_config(force_zeros_for_empty_prompt=True)
    _, neg, _, neg_pooled = r.rec["encode_prompt"][0]
    return {
        "what": "the same call with force_zeros_for_empty_prompt false (negative = encoding of \"\" by both encoders)",
        "max_abs_negative_prompt_embeds_of_empty_prompt": float(neg.abs().max()),
        "max_abs_negative_pooled_of_empty_prompt": float(neg_pooled.abs().max()),
        "max_abs_diff_final_latents": float((r.rec["step_latents"][-1] - tensors["final_latents"]).abs().max()),
        "max_abs_diff_image": float((image - tensors["image"]).abs().max()),
    }


def unet_io(gen):
    return {
        "unet_sample": torch.randn(2, 4, LATENT, LATENT, generator=gen),
        "unet_timestep": torch.tensor([999.0, 261.5], dtype=torch.float32),
        "unet_encoder_hidden_states": torch.randn(2, 11, UNET["cross_attention_dim"], generator=gen),
        "unet_text_embeds": torch.randn(2, TEXT_2["projection_dim"], generator=gen),
        "unet_time_ids": torch.tensor([[1024.0, 768.0, 0.0, 64.0, 896.0, 1152.0],
                                       [40.0, 48.0, 6.0, 2.0, 24.0, 32.0]], dtype=torch.float32),
    }


def run_unet(unet, io, capture=False):
    got = {}
    handles = []
    if capture:
        handles.append(unet.time_embedding.register_forward_hook(
            lambda m, a, o: got.__setitem__("unet_time_emb", o.clone())))
        handles.append(unet.add_embedding.register_forward_hook(
            lambda m, a, o: got.update(unet_add_embeds=a[0].clone(), unet_aug_emb=o.clone())))
    try:
        with torch.no_grad():
            got["unet_expected"] = unet(io["unet_sample"], io["unet_timestep"], io["unet_encoder_hidden_states"],
                                        added_cond_kwargs={"text_embeds": io["unet_text_embeds"],
                                                           "time_ids": io["unet_time_ids"]}).sample
    finally:
        for h in handles:
            h.remove()
    return got


def text_io(pipe, prompt):
    ids = pipe.tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    ids_2 = pipe.tokenizer_2(prompt, padding="max_length", max_length=77, truncation=True,
                             return_tensors="pt").input_ids
    return {"text_encoder_input_ids": ids, "text_encoder_2_input_ids": ids_2}


def run_text(pipe, io):
    with torch.no_grad():
        o1 = pipe.text_encoder(io["text_encoder_input_ids"], output_hidden_states=True)
        o2 = pipe.text_encoder_2(io["text_encoder_2_input_ids"], output_hidden_states=True)
    return {"text_encoder_penultimate": o1.hidden_states[-2], "text_encoder_2_penultimate": o2.hidden_states[-2],
            "text_encoder_2_last_hidden_state": o2.last_hidden_state, "text_encoder_2_text_embeds": o2.text_embeds}


def max_diff(a, b):
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def params_without_effect(module, run, skip=()):
    """Every parameter nudged in turn (1e-2 N(0,1) on each value): the names whose nudge leaves run()'s outputs
    within 1e-6. The module is left exactly as it was."""
    gen = torch.Generator().manual_seed(0)
    base = run()
    dead = []
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith(skip):
                continue
            saved = p.clone()
            p.add_(1e-2 * torch.randn(p.shape, generator=gen))
            d = max_diff(base, run())
            p.copy_(saved)  # exactly back (adding and subtracting the nudge would round)
            if d < 1e-6:
                dead.append(name)
    return dead


def wrong_variants(pipe, prompt, unet_inputs, unet_expected):
    """How far wrong readings of SDXL's conditioning land (max |difference|)."""
    out = {}
    ids = text_io(pipe, prompt)
    with torch.no_grad():
        o1 = pipe.text_encoder(ids["text_encoder_input_ids"], output_hidden_states=True)
        o2 = pipe.text_encoder_2(ids["text_encoder_2_input_ids"], output_hidden_states=True)
        right = torch.cat([o1.hidden_states[-2], o2.hidden_states[-2]], -1)

        def d(x):
            return float((x - right).abs().max())
        out["prompt_embeds: last_hidden_state (final-normed) instead of hidden_states[-2]"] = d(
            torch.cat([o1.last_hidden_state, o2.last_hidden_state], -1))
        out["prompt_embeds: hidden_states[-2] through final_layer_norm"] = d(torch.cat(
            [pipe.text_encoder.text_model.final_layer_norm(o1.hidden_states[-2]),
             pipe.text_encoder_2.text_model.final_layer_norm(o2.hidden_states[-2])], -1))
        out["prompt_embeds: text_encoder_2 first"] = d(torch.cat([o2.hidden_states[-2], o1.hidden_states[-2]], -1))
        proj = pipe.text_encoder_2.text_projection
        eos = int(ids["text_encoder_2_input_ids"][0].argmax())
        out["pooled: last position instead of EOS"] = float(
            (proj(o2.last_hidden_state[:, -1]) - o2.text_embeds).abs().max())
        out["pooled: EOS state before final_layer_norm"] = float(
            (proj(o2.hidden_states[-1][:, eos]) - o2.text_embeds).abs().max())

    unet = pipe.unet

    def ud(io=unet_inputs):
        return float((run_unet(unet, io)["unet_expected"] - unet_expected).abs().max())
    tid = unet_inputs["unet_time_ids"]
    out["unet: time_ids read as (original, target, crops)"] = ud(dict(unet_inputs, unet_time_ids=tid[:, [0, 1, 4, 5, 2, 3]]))
    out["unet: time_ids sizes as (w, h)"] = ud(dict(unet_inputs, unet_time_ids=tid[:, [1, 0, 3, 2, 5, 4]]))
    unet.add_time_proj.flip_sin_to_cos = False
    out["unet: time_ids sinusoids sin|cos (not flipped)"] = ud()
    unet.add_time_proj.flip_sin_to_cos = True
    real = unet.get_aug_embed

    def time_first(emb, encoder_hidden_states, added_cond_kwargs):
        te, ti = added_cond_kwargs["text_embeds"], added_cond_kwargs["time_ids"]
        time_embeds = unet.add_time_proj(ti.flatten()).reshape((te.shape[0], -1))
        return unet.add_embedding(torch.concat([time_embeds, te], dim=-1))
    unet.get_aug_embed = time_first
    out["unet: cat([time_embeds, text_embeds]) (time first)"] = ud()
    unet.get_aug_embed = lambda **kw: None
    out["unet: added embedding left out"] = ud()
    del unet.get_aug_embed
    assert unet.get_aug_embed == real and ud() == 0.0
    return out


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    common.deterministic_torch()
    out = common.fixture_root("sdxl_pipeline")
    cites = check_cites()
    tok, tok_2 = make_tokenizers()
    vocab = tok.get_vocab()
    unet, vae, text_encoder, text_encoder_2, perturbed, decoder_scale = make_components(vocab, tok.bos_token_id)
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tok,
                                     tokenizer_2=tok_2, unet=unet, scheduler=EulerDiscreteScheduler(**EULER),
                                     force_zeros_for_empty_prompt=True)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.watermark is None and pipe.vae_scale_factor == 2
    for sub in ["unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "scheduler", "cases"]:
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    pipe.save_pretrained(out, safe_serialization=True)
    # tokenizer/ is the SD fixture's, byte for byte
    for fname in sorted(os.listdir(SD_TOKENIZER)):
        a, b = os.path.join(SD_TOKENIZER, fname), os.path.join(out, "tokenizer", fname)
        assert open(a, "rb").read() == open(b, "rb").read(), f"tokenizer/{fname} differs from the SD fixture's"

    # every case runs on the pipeline as a user would load the folder
    loaded = StableDiffusionXLPipeline.from_pretrained(out)
    loaded.set_progress_bar_config(disable=True)
    assert loaded.watermark is None and loaded.config.force_zeros_for_empty_prompt is True
    assert type(loaded.tokenizer) is CLIPTokenizer and type(loaded.tokenizer_2) is CLIPTokenizer
    assert loaded.tokenizer_2.pad_token == "!" and loaded.tokenizer.pad_token == "<|endoftext|>"
    for name in ["unet", "vae", "text_encoder", "text_encoder_2"]:
        a, b = getattr(pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), f"{name} reloaded differently"

    os.makedirs(os.path.join(out, "cases"), exist_ok=True)
    cases_json, sha, all_tensors = [], {}, {}
    for case in CASES:
        tensors, info = run_case(loaded, case)
        all_tensors[case["name"]] = tensors
        if case is CASES[0]:  # the in-memory pipeline gives the same
            set_scheduler(pipe, case)
            assert torch.equal(call(pipe, case), tensors["image"]), "the reloaded pipeline differs"
        else:
            info["force_zeros_for_empty_prompt_off"] = force_zeros_effect(loaded, case, tensors)
        path = os.path.join(out, "cases", case["name"] + ".safetensors")
        common.st_io.save_file({k: v.contiguous() for k, v in tensors.items()}, path)
        sha["cases/" + case["name"] + ".safetensors"] = common.sha256(path)
        set_scheduler(loaded, case)
        ids = {}
        for tname in ("tokenizer", "tokenizer_2"):
            t = getattr(loaded, tname)
            ids[tname] = {"prompt": t(case["prompt"]).input_ids,
                          "negative_prompt": None if case["negative_prompt"] is None
                          else t(case["negative_prompt"]).input_ids,
                          "pad_id": t.pad_token_id}
        cases_json.append({
            "name": case["name"], "prompt": case["prompt"], "prompt_2": None,
            "negative_prompt": case["negative_prompt"], "negative_prompt_2": None,
            "seed": case["seed"], "generator": "torch.Generator('cpu').manual_seed(seed), the only generator",
            "num_inference_steps": case["steps"], "guidance_scale": case["guidance"], "guidance_rescale": 0.0,
            "num_images_per_prompt": 1, "height": SIZE, "width": SIZE, "eta": 0.0, "clip_skip": None,
            "original_size_argument": case["original_size"],
            "crops_coords_top_left_argument": case["crops_coords_top_left"],
            "target_size_argument": case["target_size"],
            "original_size": list(case["original_size"] or (SIZE, SIZE)),
            "crops_coords_top_left": list(case["crops_coords_top_left"] or (0, 0)),
            "target_size": list(case["target_size"] or (SIZE, SIZE)),
            "negative_original_size": None, "negative_crops_coords_top_left": [0, 0], "negative_target_size": None,
            "force_zeros_for_empty_prompt": True,
            "force_zeros_applied": case["negative_prompt"] is None,
            "output_type": "pt", "scheduler_class": case["scheduler"].__name__,
            "scheduler_from_config_overrides": case["overrides"],
            "scheduler_config": json.loads(loaded.scheduler.to_json_string()),
            "token_ids_unpadded": ids,
            **info,
            "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "doc": CASE_DOC[k]}
                        for k, v in tensors.items()},
        })
    a = all_tensors[CASES[0]["name"]]

    # the modules alone: the U-Net on fixed inputs with added_cond_kwargs, the text encoders on case a's prompt
    gen = torch.Generator().manual_seed(SEED + 2)
    uio = unet_io(gen)
    ures = run_unet(loaded.unet, uio, capture=True)
    tio = text_io(loaded, CASES[0]["prompt"])
    tres = run_text(loaded, tio)
    assert torch.equal(torch.cat([tres["text_encoder_penultimate"], tres["text_encoder_2_penultimate"]], -1),
                       a["prompt_embeds"]), "prompt_embeds is not the two penultimate states concatenated"
    assert torch.equal(tres["text_encoder_2_text_embeds"], a["pooled_prompt_embeds"])
    modules = {**uio, **ures, **tio, **tres}
    common.st_io.save_file({k: v.contiguous() for k, v in modules.items()}, os.path.join(out, MODULES))
    sha[MODULES] = common.sha256(os.path.join(out, MODULES))
    # the U-Net reloaded by itself gives the same
    alone = UNet2DConditionModel.from_pretrained(os.path.join(out, "unet"), low_cpu_mem_usage=False).eval()
    assert torch.equal(run_unet(alone, uio)["unet_expected"], ures["unet_expected"])
    # float64 and the classic attention processor, as tolerance hints
    f64 = UNet2DConditionModel.from_pretrained(os.path.join(out, "unet"), low_cpu_mem_usage=False).eval().double()
    unet_f64_diff = float((run_unet(f64, {k: v.double() for k, v in uio.items()})["unet_expected"]
                           - ures["unet_expected"].double()).abs().max())

    # every parameter must matter (apart from what SDXL never reads): U-Net on the module inputs, the text encoders
    # on what encode_prompt reads of them, the VAE's decoder side on case a's final latents
    dead = {
        "unet": params_without_effect(loaded.unet, lambda: {"x": run_unet(loaded.unet, uio)["unet_expected"]}),
        "text_encoder": params_without_effect(loaded.text_encoder, lambda: {"x": run_text(loaded, tio)[
            "text_encoder_penultimate"]}),
        "text_encoder_2": params_without_effect(loaded.text_encoder_2, lambda: {
            k: v for k, v in run_text(loaded, tio).items() if k != "text_encoder_2_last_hidden_state"}),
    }

    def decode():
        with torch.no_grad():
            return {"x": loaded.vae.decode(a["final_latents"] / VAE["scaling_factor"]).sample}
    assert torch.equal((decode()["x"] / 2 + 0.5).clamp(0, 1), a["image"]), "image is not the plain decode"
    dead["vae"] = params_without_effect(loaded.vae, decode, skip=("encoder.", "quant_conv."))
    last = f"text_model.encoder.layers.{TEXT['num_hidden_layers'] - 1}."
    by_design = {
        "text_encoder": sorted(n for n in dead["text_encoder"] if n.startswith((last, "text_model.final_layer_norm."))
                               or n.endswith(clip_text.NO_EFFECT_BY_DESIGN)),
        "text_encoder_2": sorted(n for n in dead["text_encoder_2"] if n.endswith(clip_text.NO_EFFECT_BY_DESIGN)),
        "vae": sorted(n for n in dead["vae"] if n.endswith("attentions.0.to_k.bias")),
    }
    unexpected = {k: [n for n in v if n not in by_design.get(k, [])] for k, v in dead.items()}
    assert not any(unexpected.values()), f"parameters without effect: {unexpected}"
    unread = sorted(n for n, _ in loaded.text_encoder.named_parameters()
                    if n.startswith((last, "text_model.final_layer_norm.")))
    assert unread == [n for n in by_design["text_encoder"] if n.startswith((last, "text_model.final_layer_norm."))]

    wrong = wrong_variants(loaded, CASES[0]["prompt"], uio, ures["unet_expected"])

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"cases": cases_json}, f, indent=1)
        f.write("\n")
    sha["cases.json"] = common.sha256(os.path.join(out, "cases.json"))
    for sub, fname in [("unet", common.WEIGHTS), ("vae", common.WEIGHTS), ("text_encoder", "model.safetensors"),
                       ("text_encoder_2", "model.safetensors")]:
        sha[f"{sub}/{fname}"] = common.sha256(os.path.join(out, sub, fname))
    meta = {
        "diffusers_version": common.diffusers.__version__,
        "diffusers_commit": common.diffusers_commit(),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "ftfy": "absent (transformers' BasicTokenizer cleaning path)",
        "invisible_watermark": "absent: add_watermarker defaults to False, the images are not watermarked",
        "folder": "written by StableDiffusionXLPipeline.save_pretrained(safe_serialization=True), safetensors through "
                  "st_io.py; every case runs on StableDiffusionXLPipeline.from_pretrained(folder)",
        "seed": SEED,
        "vae_scale_factor": loaded.vae_scale_factor,
        "components": {
            "unet": {"constructor_kwargs": UNET, "n_params": sum(p.numel() for p in unet.parameters()),
                     "attn_processor": type(next(iter(unet.attn_processors.values()))).__name__,
                     "time_embed_dim": unet.time_embedding.linear_2.out_features,
                     "note": "block_out_channels (8, 16, 24) with 4 groups, not the (16, 32, 48) with 8 suggested: "
                             "that U-Net would be 3.7 MB, this one is 1.0 MB"},
            "vae": {"constructor_kwargs": VAE, "n_params": sum(p.numel() for p in vae.parameters()),
                    "decoder_conv_out_scaled_by": decoder_scale},
            "text_encoder": {"class": "CLIPTextModel",
                             "config_kwargs": dict(TEXT, vocab_size=len(vocab), bos_token_id=tok.bos_token_id),
                             "n_params": sum(p.numel() for p in text_encoder.parameters())},
            "text_encoder_2": {"class": "CLIPTextModelWithProjection",
                               "config_kwargs": dict(TEXT_2, vocab_size=len(vocab), bos_token_id=tok.bos_token_id),
                               "n_params": sum(p.numel() for p in text_encoder_2.parameters())},
            "attn_implementation": loaded.text_encoder.config._attn_implementation,
            "tokenizer": {"class": "CLIPTokenizer (slow)", "files": "the SD fixture's tokenizer/ (byte-identical)",
                          "vocab_size": len(vocab), "pad_token": tok.pad_token, "pad_id": tok.pad_token_id},
            "tokenizer_2": {"class": "CLIPTokenizer (slow)", "files": "the same vocabulary and merges",
                            "pad_token": tok_2.pad_token, "pad_id": tok_2.pad_token_id,
                            "note": "'!' is then also split out of prompts as a special token"},
            "scheduler": {"class": "EulerDiscreteScheduler", "kwargs": EULER},
            "force_zeros_for_empty_prompt": True,
        },
        "perturbed_constant_params": {"counts": perturbed, "rule": "param was constant at init -> += 0.2*N(0,1)"},
        "sharpened_attention": "every to_q/to_k (U-Net, VAE) and q_proj/k_proj (both text encoders) weight x3",
        "widened_embeddings": "both text encoders' token and position embeddings redrawn as 0.5*N(0,1)",
        "params_without_effect": dead,
        "params_without_effect_by_design": {
            "text_encoder": f"its last layer ({last}*) and final_layer_norm: SDXL reads only hidden_states[-2] of "
                            "text_encoder and never its pooled output; and every self_attn.k_proj.bias (the softmax "
                            "cancels it)",
            "text_encoder_2": "every self_attn.k_proj.bias",
            "vae": "decoder.mid_block.attentions.0.to_k.bias (the softmax cancels it; it may move the image by float "
                   "rounding alone)",
        },
        "params_checked_on": {"unet": "modules.safetensors' unet_expected",
                              "text_encoder": "hidden_states[-2] of case a's prompt",
                              "text_encoder_2": "hidden_states[-2] and text_embeds of case a's prompt",
                              "vae": "decode of case a's final latents (encoder and quant_conv not checked: unused)"},
        "unet_max_abs_diff_f32_vs_f64": unet_f64_diff,
        "max_abs_diff_of_wrong_variants": wrong,
        "modules_tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                                "doc": MODULES_DOC[k]} for k, v in modules.items()},
        "conditioning": CONDITIONING,
        "citations": cites,
        "sha256": sha,
    }
    common.write_meta(out, meta)

    print(f"== sdxl_pipeline: {folder_size(out)} bytes; files:")
    for d, _, fs in sorted(os.walk(out)):
        for fname in sorted(fs):
            p = os.path.join(d, fname)
            print(f"   {os.path.relpath(p, out)}: {os.path.getsize(p)}")
    for c in cases_json:
        print(f"   {c['name']}: {c['scheduler_class']} timesteps {c['timesteps']} ({c['timesteps_dtype']}, U-Net gets "
              f"{c['unet_timestep_dtype']}), sigmas {[round(s, 5) for s in c['sigmas']]}, add_time_ids "
              f"{c['add_time_ids']}, zeros {c['negative_embeds_are_zeros']}, clamped "
              f"{c['image_fraction_clamped']:.3f}, max|latents| {c['max_abs_final_latents']:.3g}")
        if "force_zeros_for_empty_prompt_off" in c:
            print("     force_zeros off:", c["force_zeros_for_empty_prompt_off"])
    print("   dead:", {k: len(v) for k, v in dead.items()}, "f64:", unet_f64_diff)
    for k, v in wrong.items():
        print(f"   wrong {k}: {v:.3g}")


if __name__ == "__main__":
    main()
