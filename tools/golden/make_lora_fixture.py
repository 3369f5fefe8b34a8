#!/usr/bin/env python
"""Golden LoRA files for the tiny SD 1.x pipeline of golden/sd_pipeline, with diffusers' own LoRA loading code as the
reference for what each key of a file changes.

Two LoRA files, random (fixed seed), small:
  kohya_unet_te.safetensors  the format kohya-ss sd-scripts / A1111 / ComfyUI read and write (F16, as trainers save
                             with --save_precision fp16): `lora_unet_<module path with _>.lora_down.weight`,
                             `.lora_up.weight`, `.alpha` (a 0-dim tensor), and `lora_te_<...>` for the text encoder;
                             linear, 1x1-conv (proj_in/proj_out) and 3x3-conv (LoCon: resnet conv1) modules; ranks 4
                             and 2, alpha != rank on most modules, alpha absent on one.
  diffusers_unet.safetensors written by diffusers' own StableDiffusionPipeline.save_lora_weights from PEFT-named layers
                             (what peft's get_peft_model_state_dict gives): `unet.<module>.lora_A.weight` /
                             `.lora_B.weight`, `text_encoder.<module>.lora_A.weight` / `.lora_B.weight`; F32; no alpha
                             anywhere (diffusers then gives every module lora_alpha = rank: scale 1).

Per file, in <name>/: key_map.json (every file key -> the parameter it changes, rank, alpha, scale alpha/rank, and what
diffusers made of it), deltas.safetensors (the exact dW at scale 1.0 per targeted parameter), io.safetensors (the base
model, this LoRA merged at 0.8 and both LoRAs merged at once, kohya at 0.8 + diffusers at 0.5, on a fixed U-Net input
and fixed token ids) and meta.json (provenance, checks, the alpha rules, surprises).

The reference effect is computed here in plain torch, float64 from the file's values:
    W' = W + sum_i  multiplier_i * (alpha_i / rank_i) * (up_i @ down_i)      (conv: up.flatten(1) @ down.flatten(1),
                                                                              reshaped to W's [out, in, kh, kw])
with alpha = rank where the file has none (kohya-ss sd-scripts' rule). Diffusers is the reference for the key mapping:
the file goes through StableDiffusionPipeline.lora_state_dict (kohya -> diffusers names + network_alphas) and the real
load_lora_weights (diffusers -> PEFT LoRA layers, run on peft's source behind stubs); every PEFT layer must hold exactly
the file's tensors, peft's own merge (fuse_lora) must give the weights computed here, and peft's unmerged forward the
outputs, once its scalings are the kohya ones. Where diffusers reads a kohya alpha differently (it does, see meta.json)
the file's own definition is kept and the difference recorded.

Runs offline with only torch installed: diffusers' source at DIFFUSERS_COMMIT in ./src, transformers 4.57.6 from its
wheel extracted to /tmp/tf-src, peft's src/ at PEFT_COMMIT in /tmp/peft-src/src (hf_stubs.install_peft()).

Usage:  /tmp/venv/bin/python make_lora_fixture.py [OUT_DIR]   (default core/src/test/resources/golden/lora)
"""
import copy
import json
import os
import shutil
import tempfile

import hf_stubs

PEFT_VERSION = hf_stubs.install_peft()  # before golden_common, which imports diffusers

import golden_common as common  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import StableDiffusionPipeline  # noqa: E402
from diffusers.utils.constants import USE_PEFT_BACKEND  # noqa: E402
from diffusers.utils.state_dict_utils import (convert_state_dict_to_diffusers, convert_state_dict_to_peft,  # noqa: E402
                                              convert_unet_state_dict_to_peft)

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(HERE, "..", "..", "core", "src", "test", "resources", "golden", "sd_pipeline")
SEED = 4242
RHO = 0.3  # every module's dW at its own scale is drawn to ||scale*dW|| = RHO * ||W|| (before the file's rounding)
MULT = {"kohya_unet_te": 0.8, "diffusers_unet": 0.8}
BOTH = {"kohya_unet_te": 0.8, "diffusers_unet": 0.5}
TIMESTEP = 500.0
PROMPTS = ["a red cube on a table", "a photo of an astronaut riding a horse on the moon"]

A = "down_blocks.0.attentions.0"
T = A + ".transformer_blocks.0"
# (component, module, rank, alpha or None); kohya's SD 1.x U-Net uses diffusers' module names
KOHYA = [
    ("unet", T + ".attn1.to_q", 4, 2.0),
    ("unet", T + ".attn1.to_k", 4, 2.0),
    ("unet", T + ".attn1.to_v", 2, 2.0),
    ("unet", T + ".attn1.to_out.0", 4, 2.0),
    ("unet", T + ".attn2.to_k", 2, 2.0),  # cross-attention: in 32 (the text width), out 16
    ("unet", T + ".attn2.to_v", 2, 1.0),
    ("unet", T + ".ff.net.0.proj", 4, 2.0),  # GEGLU's projection: out 128 = 2 x 64
    ("unet", T + ".ff.net.2", 4, None),  # alpha absent: scale 1
    ("unet", A + ".proj_in", 2, 2.0),  # 1x1 conv
    ("unet", A + ".proj_out", 4, 8.0),  # 1x1 conv
    ("unet", "down_blocks.0.resnets.0.conv1", 2, 1.0),  # 3x3 conv (LoCon)
    ("unet", "down_blocks.0.resnets.0.time_emb_proj", 4, 2.0),
    ("unet", "mid_block.attentions.0.transformer_blocks.0.attn2.to_q", 4, 2.0),
    ("unet", "up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v", 4, 2.0),
    ("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj", 4, 2.0),
    ("text_encoder", "text_model.encoder.layers.0.self_attn.out_proj", 2, 2.0),
    ("text_encoder", "text_model.encoder.layers.0.mlp.fc1", 4, 4.0),
    ("text_encoder", "text_model.encoder.layers.1.self_attn.v_proj", 2, 1.0),
]
# (component, module, rank): no alphas in this format
DIFFUSERS = [
    ("unet", T + ".attn1.to_q", 4),  # also in the kohya file: both add to the same weight
    ("unet", T + ".attn2.to_k", 4),  # also in the kohya file
    ("unet", "mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0", 2),
    ("unet", "up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k", 4),
    ("unet", "up_blocks.1.attentions.1.transformer_blocks.0.attn2.to_v", 4),
    ("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj", 4),  # also in the kohya file
    ("text_encoder", "text_model.encoder.layers.1.self_attn.out_proj", 2),
    ("text_encoder", "text_model.encoder.layers.2.self_attn.k_proj", 4),
]
KOHYA_PREFIX = {"unet": "lora_unet_", "text_encoder": "lora_te_"}

IO_DOC = {
    "sample": "[1,4,8,8] U-Net input latents (N(0,1), seed SEED+1)",
    "timestep": "[1] float32, the U-Net's timestep",
    "encoder_hidden_states": "[1,77,32] U-Net cross-attention input (N(0,1), fixed; not the text encoder's output)",
    "input_ids": "[2,77] int64: the pipeline's CLIPTokenizer on PROMPTS, padded to 77 with <|endoftext|>",
    "base_unet_out": "[1,4,8,8] U-Net output without any LoRA",
    "base_text_last_hidden_state": "[2,77,32] text encoder last_hidden_state without any LoRA",
    "unet_out": "[1,4,8,8] U-Net output with this file's LoRA merged at multiplier 0.8",
    "text_last_hidden_state": "[2,77,32] last_hidden_state with this file's LoRA merged at multiplier 0.8",
    "both_unet_out": "[1,4,8,8] U-Net output with kohya_unet_te at 0.8 and diffusers_unet at 0.5 merged at once",
    "both_text_last_hidden_state": "[2,77,32] last_hidden_state with both LoRAs merged (kohya 0.8, diffusers 0.5)",
}


def kind(weight):
    return "linear" if weight.ndim == 2 else f"conv{weight.shape[2]}x{weight.shape[3]}"


def product(up, down):
    """up @ down in float64, reshaped to the weight's shape: Linear [out,r]@[r,in]; conv [out,r,1,1] x [r,in,kh,kw]."""
    up, down = up.double(), down.double()
    if down.ndim == 2:
        return up @ down
    return (up.flatten(1) @ down.flatten(1)).reshape(up.shape[0], *down.shape[1:])


def draw_pair(weight, rank, scale, gen):
    """down ~ N(0,1)/sqrt(fan_in) shaped like kohya's lora_down ([r,in] or [r,in,kh,kw]), up like lora_up ([out,r] or
    [out,r,1,1]), up then scaled so that ||scale * up @ down||_F = RHO * ||W||_F."""
    weight = weight.detach()
    fan_in = weight[0].numel()
    down = torch.randn((rank,) + tuple(weight.shape[1:]), generator=gen, dtype=torch.float64) / fan_in ** 0.5
    up = torch.randn((weight.shape[0], rank) + (1,) * (weight.ndim - 2), generator=gen, dtype=torch.float64)
    up *= RHO * float(weight.double().norm()) / (scale * float(product(up, down).norm()))
    return down, up


def make_lora_files(out, modules):
    """Both LoRA files as the trainers write them; returns {name: [module spec]}."""
    gen = torch.Generator().manual_seed(SEED)
    params = {c: dict(getattr(modules, c).named_parameters()) for c in ("unet", "text_encoder")}
    # kohya: F16 tensors (down, up, alpha), keys lora_{unet,te}_<module with . -> _>
    kohya, kohya_specs = {}, []
    for comp, module, rank, alpha in KOHYA:
        w = params[comp][module + ".weight"]
        scale = (alpha if alpha is not None else rank) / rank
        down, up = draw_pair(w, rank, scale, gen)
        name = KOHYA_PREFIX[comp] + module.replace(".", "_")
        kohya[name + ".lora_down.weight"] = down.half()
        kohya[name + ".lora_up.weight"] = up.half()
        if alpha is not None:
            kohya[name + ".alpha"] = torch.tensor(alpha, dtype=torch.float16)
        kohya_specs.append(dict(component=comp, module=module, lora_name=name, rank=rank, alpha=alpha,
                                alpha_in_file=alpha is not None, scale=scale, kind=kind(w),
                                keys={"down": name + ".lora_down.weight", "up": name + ".lora_up.weight",
                                      **({"alpha": name + ".alpha"} if alpha is not None else {})}))
    common.st_io.save_file(kohya, os.path.join(out, "kohya_unet_te.safetensors"))
    # diffusers: PEFT names per component, written by diffusers' save_lora_weights (which adds unet./text_encoder.)
    layers, diff_specs = {"unet": {}, "text_encoder": {}}, []
    for comp, module, rank in DIFFUSERS:
        w = params[comp][module + ".weight"]
        down, up = draw_pair(w, rank, 1.0, gen)
        layers[comp][module + ".lora_A.weight"] = down.float()
        layers[comp][module + ".lora_B.weight"] = up.float()
        diff_specs.append(dict(component=comp, module=module, rank=rank, alpha=None, alpha_in_file=False, scale=1.0,
                               kind=kind(w), keys={"down": f"{comp}.{module}.lora_A.weight",
                                                   "up": f"{comp}.{module}.lora_B.weight"}))
    StableDiffusionPipeline.save_lora_weights(out, unet_lora_layers=layers["unet"],
                                              text_encoder_lora_layers=layers["text_encoder"],
                                              weight_name="diffusers_unet.safetensors", safe_serialization=True)
    return {"kohya_unet_te": kohya_specs, "diffusers_unet": diff_specs}


def deltas_from_file(path, specs):
    """{"<component>.<module>.weight": dW at multiplier 1 (scale included), float64} from the file as written."""
    sd = common.st_io.load_file(path)
    out = {}
    for s in specs:
        down, up = sd[s["keys"]["down"]], sd[s["keys"]["up"]]
        assert down.shape[0] == s["rank"] and up.shape[1] == s["rank"]
        alpha = float(sd[s["keys"]["alpha"]]) if "alpha" in s["keys"] else float(s["rank"])
        assert alpha / s["rank"] == s["scale"]
        out[f"{s['component']}.{s['module']}.weight"] = (alpha / s["rank"]) * product(up, down)
    return out


def merged(base, deltas_and_mults):
    """Copies of the base U-Net and text encoder with W + sum(mult * dW) (float64, rounded once to float32)."""
    unet, te = copy.deepcopy(base.unet), copy.deepcopy(base.text_encoder)
    comps = {"unet": unet, "text_encoder": te}
    with torch.no_grad():
        total = {}
        for deltas, mult in deltas_and_mults:
            for k, d in deltas.items():
                total[k] = total.get(k, 0) + mult * d
        for k, d in total.items():
            comp, name = k.split(".", 1)
            p = dict(comps[comp].named_parameters())[name]
            p.copy_((p.double() + d).float())
    return unet, te


def run(unet, te, inputs):
    with torch.no_grad():
        u = unet(inputs["sample"], inputs["timestep"], encoder_hidden_states=inputs["encoder_hidden_states"]).sample
        t = te(inputs["input_ids"]).last_hidden_state
    return u, t


def rel(a, b):
    a, b = a.detach(), b.detach()
    return float((a - b).norm() / b.norm())


def diffusers_key_map(path, specs):
    """What diffusers' own conversion makes of the file: lora_state_dict (kohya -> diffusers names and network_alphas),
    then the renames load_lora_weights applies before PEFT (U-Net: convert_unet_state_dict_to_peft; text encoder:
    convert_state_dict_to_diffusers then convert_state_dict_to_peft, each on the whole component as diffusers does).
    Returns, per file key, the lora_state_dict key, the PEFT key and the module it lands on; and the network_alphas."""
    raw = common.st_io.load_file(path)
    sd, alphas = StableDiffusionPipeline.lora_state_dict(path)
    per_comp = {}
    for k, v in sd.items():
        comp, rest = k.split(".", 1)
        per_comp.setdefault(comp, {})[rest] = v
    peft = {}
    if "unet" in per_comp:
        d = per_comp["unet"]
        peft["unet"] = d if "lora_A" in next(iter(d)) else convert_unet_state_dict_to_peft(d)
    if "text_encoder" in per_comp:
        peft["text_encoder"] = convert_state_dict_to_peft(convert_state_dict_to_diffusers(per_comp["text_encoder"]))
    by_tensor = {}
    for k, v in raw.items():
        if v.ndim:
            by_tensor.setdefault(v.float().numpy().tobytes(), []).append(k)
    assert all(len(ks) == 1 for ks in by_tensor.values()), "two file tensors are equal"

    def source(v):
        return by_tensor[v.float().numpy().tobytes()][0]
    result = {}
    for comp, d in peft.items():
        diff_keys = {source(v): k for k, v in sd.items() if k.startswith(comp + ".")}
        for k, v in d.items():
            module, _, role = k.rpartition(".lora_")
            result[source(v)] = {"lora_state_dict_key": diff_keys[source(v)], "peft_key": k,
                                 "module": f"{comp}:{module}", "peft_role": "lora_" + role.split(".")[0]}
    unmapped = [k for k in raw if raw[k].ndim and k not in result]
    assert not unmapped, f"diffusers dropped {unmapped}"
    for s in specs:
        for role in ("down", "up"):
            got = result[s["keys"][role]]
            assert got["module"] == f"{s['component']}:{s['module']}", (s["keys"][role], got)
            assert got["peft_role"] == ("lora_A" if role == "down" else "lora_B"), got
    return result, alphas


def peft_layers(pipe):
    from peft.tuners.lora import LoraLayer
    out = {}
    for comp in ("unet", "text_encoder"):
        for name, m in getattr(pipe, comp).named_modules():
            if isinstance(m, LoraLayer):
                out[f"{comp}.{name}"] = m
    return out


def check_peft_load(pipe, name, path, specs):
    """The real diffusers path: load_lora_weights(file) into PEFT layers. Each targeted module (and no other) gets a
    LoRA layer holding exactly the file's tensors (F16 read as F32), and peft's get_delta_weight, divided by its own
    scaling, equals up @ down as computed here. Returns diffusers' scaling per module."""
    pipe.load_lora_weights(path, adapter_name=name)
    sd = common.st_io.load_file(path)
    layers = {k: m for k, m in peft_layers(pipe).items() if name in m.lora_A}
    want = {f"{s['component']}.{s['module']}": s for s in specs}
    assert set(layers) == set(want), (sorted(set(layers) ^ set(want)))
    scaling, worst = {}, 0.0
    for key, m in layers.items():
        s = want[key]
        assert torch.equal(m.lora_A[name].weight, sd[s["keys"]["down"]].float()), key
        assert torch.equal(m.lora_B[name].weight, sd[s["keys"]["up"]].float()), key
        assert m.r[name] == s["rank"]
        scaling[key] = float(m.scaling[name])
        with torch.no_grad():
            d = m.get_delta_weight(name).double() / m.scaling[name]
        mine = product(sd[s["keys"]["up"]], sd[s["keys"]["down"]])
        worst = max(worst, rel(d, mine))
    assert worst < 1e-6, worst
    configs = {}
    for comp in ("unet", "text_encoder"):
        c = getattr(pipe, comp).peft_config[name]
        configs[comp] = {"r": c.r, "lora_alpha": c.lora_alpha, "rank_pattern": dict(c.rank_pattern),
                         "alpha_pattern": dict(c.alpha_pattern), "target_modules": sorted(c.target_modules)}
    return scaling, worst, configs


def set_scalings(pipe, scalings):
    """{adapter: {module key: scaling}} into the PEFT layers (peft's y = W x + scaling * B(A(x)))."""
    layers = peft_layers(pipe)
    for adapter, per in scalings.items():
        for key, value in per.items():
            layers[key].scaling[adapter] = value


def reference_inputs(pipe):
    gen = torch.Generator().manual_seed(SEED + 1)
    ids = pipe.tokenizer(PROMPTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    return {
        "sample": torch.randn(1, 4, 8, 8, generator=gen),
        "timestep": torch.tensor([TIMESTEP], dtype=torch.float32),
        "encoder_hidden_states": torch.randn(1, 77, 32, generator=gen),
        "input_ids": ids.to(torch.int64),
    }


def key_effects(base, deltas, mult, inputs, full):
    """Each module's dW taken out in turn (as if its lora_up or lora_down were zero): the relative change of the
    output of the component it belongs to."""
    out = {}
    for k in deltas:
        rest = {j: d for j, d in deltas.items() if j != k}
        u, t = run(*merged(base, [(rest, mult)]), inputs)
        out[k] = rel(u, full[0]) if k.startswith("unet.") else rel(t, full[1])
    return out


def te_without_out_proj_quirk(base, path):
    """diffusers picks the text encoder's renaming from the whole state dict: with `to_out_lora` present (out_proj) it
    renames every old-style key; without it but with an mlp key (`lora_linear_layer`) it takes the dict as new-style and
    leaves `self_attn.to_q_lora...` unrenamed, so PEFT never sees it. Load the kohya file's text-encoder part without
    out_proj and list the modules that got a LoRA layer."""
    from peft.tuners.lora import LoraLayer
    sd = {k: v for k, v in common.st_io.load_file(path).items() if k.startswith("lora_te_") and "out_proj" not in k}
    names = {"lora_te_" + n.replace(".", "_"): n for n, _ in base.text_encoder.named_modules()}
    sent = sorted({names[k.split(".")[0]] for k in sd})
    conv, alphas = StableDiffusionPipeline.lora_state_dict(dict(sd))
    te = copy.deepcopy(base.text_encoder)
    StableDiffusionPipeline.load_lora_into_text_encoder(conv, alphas, te, adapter_name="probe")
    got = sorted(n for n, m in te.named_modules() if isinstance(m, LoraLayer))
    return {"kohya_text_encoder_modules_sent": sent, "modules_that_got_a_lora_layer": got}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    common.deterministic_torch()
    assert USE_PEFT_BACKEND, "diffusers did not enable its PEFT backend"
    out = common.fixture_root("lora")
    os.makedirs(out, exist_ok=True)
    for name in MULT:
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
        os.makedirs(os.path.join(out, name))
    base = StableDiffusionPipeline.from_pretrained(BASE)
    base.set_progress_bar_config(disable=True)
    base_state = {c: {k: v.clone() for k, v in getattr(base, c).state_dict().items()} for c in ("unet", "text_encoder")}

    specs = make_lora_files(out, base)
    paths = {name: os.path.join(out, name + ".safetensors") for name in specs}
    deltas = {name: deltas_from_file(paths[name], specs[name]) for name in specs}
    inputs = reference_inputs(base)
    base_out = run(base.unet, base.text_encoder, inputs)
    outputs = {name: run(*merged(base, [(deltas[name], MULT[name])]), inputs) for name in specs}
    both = run(*merged(base, [(deltas[n], BOTH[n]) for n in specs]), inputs)

    # diffusers' conversion of every key, and the real load into PEFT layers
    conversions = {name: diffusers_key_map(paths[name], specs[name]) for name in specs}
    pipe = StableDiffusionPipeline.from_pretrained(BASE)
    pipe.set_progress_bar_config(disable=True)
    diffusers_scaling, product_err, lora_configs = {}, {}, {}
    for name in specs:
        diffusers_scaling[name], product_err[name], lora_configs[name] = check_peft_load(pipe, name, paths[name],
                                                                                           specs[name])
    file_scale = {name: {f"{s['component']}.{s['module']}": s["scale"] for s in specs[name]} for name in specs}
    disagree = {name: {k: {"file": file_scale[name][k], "diffusers": v} for k, v in diffusers_scaling[name].items()
                       if abs(v - file_scale[name][k]) > 1e-12} for name in specs}
    assert not disagree["diffusers_unet"], disagree["diffusers_unet"]

    # diffusers as it loads the kohya file (its own alphas), at 0.8 through set_adapters: how far from the file
    checks = {}
    pipe.set_adapters(["kohya_unet_te"], [MULT["kohya_unet_te"]])
    as_is = run(pipe.unet, pipe.text_encoder, inputs)
    checks["kohya_diffusers_own_alphas_vs_reference_rel"] = [rel(as_is[0], outputs["kohya_unet_te"][0]),
                                                             rel(as_is[1], outputs["kohya_unet_te"][1])]
    # peft's unmerged forward with the file's scalings, each LoRA alone and both at once
    peft_rel = {}
    for label, mults in [("kohya_unet_te", {"kohya_unet_te": MULT["kohya_unet_te"]}),
                         ("diffusers_unet", {"diffusers_unet": MULT["diffusers_unet"]}), ("both", BOTH)]:
        pipe.set_adapters(list(mults), list(mults.values()))
        set_scalings(pipe, {n: {k: m * file_scale[n][k] for k in file_scale[n]} for n, m in mults.items()})
        got = run(pipe.unet, pipe.text_encoder, inputs)
        ref = both if label == "both" else outputs[label]
        peft_rel[label] = [rel(got[0], ref[0]), rel(got[1], ref[1])]
    # peft's merge through diffusers' fuse_lora (adapters and scalings as in "both"): the weights and the outputs
    pipe.fuse_lora(components=["unet", "text_encoder"], lora_scale=1.0, adapter_names=list(BOTH))
    ref_unet, ref_te = merged(base, [(deltas[n], BOTH[n]) for n in specs])
    fused_rel, fused = 0.0, set()
    ref_params = {"unet": dict(ref_unet.named_parameters()), "text_encoder": dict(ref_te.named_parameters())}
    for key, m in peft_layers(pipe).items():
        comp, module = key.split(".", 1)
        assert sorted(m.merged_adapters) == sorted(a for a in BOTH if a in m.lora_A), (key, m.merged_adapters)
        fused_rel = max(fused_rel, rel(m.base_layer.weight.double(), ref_params[comp][module + ".weight"].double()))
        fused.add(key + ".weight")
    assert fused == set(deltas["kohya_unet_te"]) | set(deltas["diffusers_unet"]), fused
    pipe.unload_lora_weights()  # drops the PEFT layers and keeps the fused weights
    fused_out = run(pipe.unet, pipe.text_encoder, inputs)
    checks["peft_unmerged_forward_vs_reference_rel"] = peft_rel
    checks["fuse_lora_weights_vs_reference_rel_max"] = fused_rel
    checks["fuse_lora_outputs_vs_reference_rel"] = [rel(fused_out[0], both[0]), rel(fused_out[1], both[1])]
    checks["peft_delta_over_scaling_vs_up_at_down_rel_max"] = product_err
    for label, v in peft_rel.items():
        assert max(v) < 1e-5, (label, v)
    assert fused_rel < 1e-6 and max(checks["fuse_lora_outputs_vs_reference_rel"]) < 1e-5, checks
    # the base model is untouched
    for c in ("unet", "text_encoder"):
        assert all(torch.equal(v, base_state[c][k]) for k, v in getattr(base, c).state_dict().items())
    quirk = te_without_out_proj_quirk(base, paths["kohya_unet_te"])

    changes = {name: [rel(outputs[name][0], base_out[0]), rel(outputs[name][1], base_out[1])] for name in specs}
    changes["both"] = [rel(both[0], base_out[0]), rel(both[1], base_out[1])]
    assert min(min(v) for v in changes.values()) >= 1e-2, changes
    effects = {name: key_effects(base, deltas[name], MULT[name], inputs, outputs[name]) for name in specs}
    weakest = min(min(e.values()) for e in effects.values())
    assert weakest >= 1e-3, effects

    for name in specs:
        folder = os.path.join(out, name)
        conv, alphas = conversions[name]
        common.st_io.save_file({k: v.float().contiguous() for k, v in deltas[name].items()},
                               os.path.join(folder, "deltas.safetensors"))
        io = dict(inputs, base_unet_out=base_out[0], base_text_last_hidden_state=base_out[1],
                  unet_out=outputs[name][0], text_last_hidden_state=outputs[name][1],
                  both_unet_out=both[0], both_text_last_hidden_state=both[1])
        common.st_io.save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(folder, "io.safetensors"))
        write_json(os.path.join(folder, "key_map.json"), key_map(name, specs[name], conv, alphas,
                                                                 diffusers_scaling[name], effects[name],
                                                                 lora_configs[name]))
        meta = make_meta(name, specs, paths, folder, changes, checks, disagree[name], quirk)
        write_json(os.path.join(folder, "meta.json"), meta)
    report(out, specs, changes, checks, disagree, effects, quirk)


def key_map(name, specs, conv, alphas, scaling, effects, lora_config):
    keys, modules = {}, []
    for s in specs:
        target = f"{s['component']}:{s['module']}.weight"
        mkey = f"{s['component']}.{s['module']}"
        common_fields = {"param": target, "rank": s["rank"],
                         "alpha": float(s["alpha"] if s["alpha"] is not None else s["rank"]),
                         "alpha_in_file": s["alpha_in_file"], "scale": s["scale"]}
        for role, k in s["keys"].items():
            entry = dict(common_fields, role=role)
            if role != "alpha":
                entry["diffusers"] = conv[k]
            keys[k] = entry
        # _get_alpha_name: the lora_state_dict key up to ".lora." (the whole key when it has none) + ".alpha"
        network_alpha_key = conv[s["keys"]["down"]]["lora_state_dict_key"].split(".lora.")[0] + ".alpha"
        if s["alpha_in_file"]:
            assert alphas[network_alpha_key] == s["alpha"], (network_alpha_key, alphas)
        else:
            assert network_alpha_key not in (alphas or {})
            network_alpha_key = None
        modules.append({
            "file_name": s.get("lora_name", mkey), "component": s["component"], "module": s["module"],
            "param": target, "kind": s["kind"], "rank": s["rank"], **{k: common_fields[k] for k in
                                                                     ("alpha", "alpha_in_file", "scale")},
            "keys": s["keys"], "deltas_key": mkey + ".weight",
            "diffusers_network_alpha_key": network_alpha_key,
            "diffusers_scale": scaling[mkey], "diffusers_agrees": abs(scaling[mkey] - s["scale"]) < 1e-12,
            "output_rel_change_without_it": effects[mkey + ".weight"],
        })
    return {"file": name + ".safetensors", "multiplier_in_io": MULT[name], "multiplier_in_both": BOTH[name],
            "param_naming": "unet:<diffusers UNet2DConditionModel parameter>, text_encoder:<transformers "
                            "CLIPTextModel parameter>; deltas.safetensors uses unet.<param> / text_encoder.<param>",
            "keys": keys, "modules": modules, "diffusers_network_alphas": alphas or None,
            "diffusers_lora_config": lora_config}


ALPHA_RULES = {
    "kohya": "scale = alpha / rank per module, rank = lora_down.shape[0]; alpha is the module's `.alpha` (a 0-dim "
             "tensor, F16 here as fp16-saved files have it). No `.alpha` key: alpha = rank, scale 1 (kohya-ss "
             "sd-scripts' LoRAModule: 'if alpha == 0 or None, alpha is rank (no scaling)'; alpha 0 is not "
             "exercised here). This fixture's reference follows that definition. What diffusers does with it: "
             "_convert_non_diffusers_lora_to_diffusers turns every `.alpha` into network_alphas "
             "(`unet.<diffusers name up to .lora.>.alpha`); get_peft_kwargs then sets ONE lora_alpha, the most "
             "common alpha in the file, for every module, plus an alpha_pattern for modules whose alpha differs. A "
             "module without `.alpha` gets that most common alpha (not its rank), and the alpha_pattern names of "
             "attention projections (`...attn1.processor.to_q_lora.down.weight`) and of text-encoder self_attn "
             "projections (cut to `...self_attn`) match no module, so those fall back to the common alpha too; "
             "only ff/proj_in/proj_out/resnet/time_emb_proj/mlp modules get their own. With one alpha everywhere "
             "(the usual kohya file) diffusers agrees.",
    "diffusers": "The weights carry no alpha. lora_state_dict returns network_alphas None for a diffusers/PEFT file, "
                 "and get_peft_kwargs then sets lora_alpha = r for every module (alpha_pattern mirrors rank_pattern "
                 "when ranks differ): scale 1, dW = lora_B @ lora_A. diffusers can also carry LoraConfig kwargs "
                 "(r, lora_alpha, rank_pattern, alpha_pattern, target_modules) as JSON under the safetensors "
                 "__metadata__ key `lora_adapter_metadata` (save_lora_weights(..., unet_lora_adapter_metadata=...)); "
                 "diffusers' SD 1.x training scripts do not write it and this file has none (metadata is "
                 "{'format': 'pt'}).",
    "multiplier": "W' = W + multiplier * scale * dW_raw for each LoRA, summed over LoRAs; diffusers: "
                  "set_adapters(names, weights) / fuse_lora(lora_scale=...) multiply peft's scaling the same way.",
}

MAPPING_RULES = {
    "kohya": [
        "key = <lora_name>.lora_down.weight | .lora_up.weight | .alpha; lora_name = lora_unet_ or lora_te_ + the "
        "module's path in the diffusers UNet2DConditionModel / transformers CLIPTextModel with every '.' written "
        "'_' (SD 1.x kohya trains on diffusers' module names: down_blocks, mid_block, up_blocks, "
        "transformer_blocks, to_out.0, ff.net.0.proj, ff.net.2, proj_in, resnets.N.conv1, time_emb_proj; the "
        "text encoder's text_model.encoder.layers.N.self_attn.{q,k,v,out}_proj, mlp.fc1/fc2). The parameter changed "
        "is <module>.weight (biases are never touched).",
        "Reading it back: '_' is ambiguous (to_q, proj_in, time_emb_proj, text_model contain '_'), so match against "
        "the model's module names with '.' -> '_' (as A1111/ComfyUI do); diffusers instead replaces every '_' by "
        "'.' and repairs known names (_convert_unet_lora_key / _convert_text_encoder_lora_key).",
        "lora_down: Linear [r, in]; conv [r, in, kh, kw] (kh x kw = the target's kernel: 1x1 for proj_in/proj_out, "
        "3x3 for a LoCon resnet conv). lora_up: Linear [out, r]; conv [out, r, 1, 1]. "
        "dW = (up.flatten(1) @ down.flatten(1)).reshape(W.shape).",
        "diffusers' renames on the way to PEFT (recorded per key): U-Net attention to_q/to_k/to_v/to_out.0 -> "
        "`<block>.attn1.processor.to_q_lora.down.weight` (lora_state_dict) -> `<block>.attn1.to_q.lora_A.weight`; "
        "others `<module>.lora.down.weight` -> `<module>.lora_A.weight`; text encoder self_attn "
        "`self_attn.to_q_lora.down.weight` -> `self_attn.q_proj.lora_A.weight`, mlp "
        "`mlp.fc1.lora_linear_layer.down.weight` -> `mlp.fc1.lora_A.weight`; up -> lora_B.",
    ],
    "diffusers": [
        "key = unet.<module>.lora_A.weight [r, in(, kh, kw)] / unet.<module>.lora_B.weight [out, r(, 1, 1)], "
        "text_encoder.<module>.lora_A/lora_B.weight; lora_A plays lora_down, lora_B lora_up; the parameter changed "
        "is <module>.weight; dW = lora_B @ lora_A.",
        "Also accepted by load_lora_weights (convert_unet_state_dict_to_peft / convert_state_dict_to_peft): the "
        "form diffusers' own SD 1.x training scripts write through convert_state_dict_to_diffusers: "
        "unet.<...>.to_q.lora.down.weight / .lora.up.weight (attention projections), other U-Net modules keep "
        "lora_A/lora_B, and text_encoder.<...>.q_proj.lora_linear_layer.down.weight / .up.weight; and the old "
        "attention-processor form unet.<...>.attn1.processor.to_q_lora.down.weight.",
    ],
}


def make_meta(name, specs, paths, folder, changes, checks, disagree, quirk):
    files = {os.path.basename(paths[name]): common.sha256(paths[name])}
    for f in ("key_map.json", "deltas.safetensors", "io.safetensors"):
        if os.path.exists(os.path.join(folder, f)):
            files[f"{name}/{f}"] = common.sha256(os.path.join(folder, f))
    header = common.st_io.read_header(paths[name])
    return {
        "diffusers_version": common.diffusers.__version__,
        "diffusers_commit": common.diffusers_commit(),
        "transformers_version": transformers.__version__,
        "peft_version": PEFT_VERSION,
        "peft_commit": open(os.path.join(HERE, "PEFT_COMMIT")).read().strip(),
        "torch_version": torch.__version__,
        "base_model": "golden/sd_pipeline (unet/, text_encoder/, tokenizer/), loaded by "
                      "StableDiffusionPipeline.from_pretrained; not modified",
        "file": os.path.basename(paths[name]),
        "file_bytes": os.path.getsize(paths[name]),
        "file_dtypes": sorted({v["dtype"] for k, v in header.items() if k != "__metadata__"}),
        "file_metadata": header.get("__metadata__"),
        "n_keys": len([k for k in header if k != "__metadata__"]),
        "n_modules": len(specs[name]),
        "seed": SEED,
        "draw": f"lora_down ~ N(0,1)/sqrt(fan_in); lora_up ~ N(0,1), scaled so that ||scale*up@down|| = {RHO}*||W|| "
                "(then rounded to the file's dtype; the deltas are computed from the rounded values)",
        "deltas": "deltas.safetensors: dW = (alpha/rank) * up@down at multiplier 1.0, computed in float64 from the "
                  "file's values and stored as F32, keyed unet.<param> / text_encoder.<param>",
        "merge": "io's merged outputs: W' = float32(float64(W) + sum multiplier*dW) in copies of the base modules",
        "io": {"tensors": IO_DOC, "prompts": PROMPTS, "timestep": TIMESTEP,
               "multiplier": MULT[name], "both": BOTH},
        "alpha_rules": ALPHA_RULES,
        "key_mapping_rules": MAPPING_RULES,
        "output_rel_change_vs_base": {k: {"unet": v[0], "text_encoder": v[1]} for k, v in changes.items()},
        "checked": [
            "diffusers' StableDiffusionPipeline.lora_state_dict(file) plus the renames load_lora_weights applies "
            "(convert_unet_state_dict_to_peft; convert_state_dict_to_diffusers + convert_state_dict_to_peft) maps "
            "every tensor key of the file to the intended module as lora_A (down) / lora_B (up): key_map.json "
            "'diffusers'",
            "pipe.load_lora_weights(file) (diffusers + peft, real code) puts a LoRA layer on exactly the listed "
            "modules, each holding exactly the file's tensors, with the file's rank; peft's get_delta_weight / "
            "scaling equals up@down as computed here (conv 1x1 and 3x3 included)",
            "peft's unmerged forward, with its scalings set to multiplier*alpha/rank as the file defines them, "
            "gives io's outputs (this LoRA alone, and both LoRAs at once); diffusers' fuse_lora (peft's merge) of "
            "both gives the same merged weights and outputs",
            "every module's dW moves its component's output (key_map.json modules[].output_rel_change_without_it); "
            "outputs move by >= 1e-2 relative to the base model",
            "diffusers + peft give every diffusers_unet module scale 1 (lora_alpha = r, ranks 4 and 2 mixed), as "
            "the reference assumes; for kohya_unet_te the modules where diffusers' scale differs from alpha/rank "
            "are listed in diffusers_reads_alpha_differently",
            "the base model's weights are unchanged",
            "reruns write byte-identical files",
        ],
        "check_results": checks,
        "diffusers_reads_alpha_differently": disagree,
        "surprises": surprises(name, quirk),
        "sha256": files,
    }


def surprises(name, quirk):
    s = [
        "peft is not installed: its source (PEFT_COMMIT) runs behind stand-ins for accelerate and psutil "
        "(hf_stubs.install_peft), which is enough for load_lora_weights / set_adapters / fuse_lora on CPU.",
    ]
    if name == "kohya_unet_te":
        s += [
            "diffusers does not honour per-module kohya alphas: one lora_alpha (the file's most common alpha) for "
            "every module, alpha_pattern only for non-attention modules (its names for to_q/k/v/out and the text "
            "encoder's self_attn projections match nothing), and alpha-less modules get the common alpha instead "
            "of their rank; diffusers_reads_alpha_differently lists the modules and check_results "
            "kohya_diffusers_own_alphas_vs_reference_rel how far its outputs land.",
            "diffusers decides the text encoder's renaming from the whole state dict (convert_state_dict_to_diffusers "
            "looks for `to_out_lora`): a kohya text-encoder LoRA with self_attn projections and mlp but no out_proj "
            "loses its self_attn modules silently (only a 'unexpected keys' warning). This file has out_proj; "
            "the same file without it: " + json.dumps(quirk),
            "kohya's U-Net lora_state_dict names attention LoRAs `...attn1.processor.to_q_lora.down.weight` (the old "
            "attention-processor form); the `.processor.` goes again in the PEFT conversion.",
        ]
    else:
        s += [
            "diffusers' SD 1.x training scripts (train_dreambooth_lora.py, train_text_to_image_lora.py) save through "
            "convert_state_dict_to_diffusers, which renames attention lora_A/lora_B to lora.down/lora.up and the text "
            "encoder's to lora_linear_layer.down/up; this file keeps PEFT's names (what get_peft_model_state_dict "
            "gives and the Flux/SD3 scripts save), which load_lora_weights takes without renaming.",
        ]
    return s


def report(out, specs, changes, checks, disagree, effects, quirk):
    print(f"== lora: {out}")
    for d, _, fs in sorted(os.walk(out)):
        for f in sorted(fs):
            p = os.path.join(d, f)
            print(f"   {os.path.relpath(p, out)}: {os.path.getsize(p)}")
    print("   output change vs base (unet, text):", json.dumps(changes))
    print("   checks:", json.dumps(checks))
    print("   diffusers reads kohya alphas differently on:", json.dumps(disagree["kohya_unet_te"]))
    print("   weakest module effect:", {n: min(e.values()) for n, e in effects.items()})
    print("   text encoder without out_proj:", json.dumps(quirk))


if __name__ == "__main__":
    main()
