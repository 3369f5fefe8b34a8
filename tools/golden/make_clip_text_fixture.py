#!/usr/bin/env python
"""Golden reference fixtures for transformers' CLIP text encoder (the text_encoder/ of Stable Diffusion 1.x and 2.x)
on tiny random configs: one like SD 1.x (CLIPTextModel, quick_gelu, the legacy eos_token_id 2 with which transformers
pools at the argmax of input_ids), one like SD 2.x (CLIPTextModelWithProjection, gelu, eos_token_id 999 with which it
pools at the first occurrence of that id in each row).

The token rows use 998 as the start and 999 (the largest id, as 49407 is in CLIP's vocabulary) as the end of text in
both fixtures. Row 0 is padded with the end token (first and last occurrence differ), row 1 with 0 and has the legacy
eos id 2 among its words (a "first id 2" rule would pool there), row 2 is full (77 tokens, the end token last).

Every constant-initialised parameter (LayerNorm weights and biases, every linear bias) is perturbed, the embeddings
are drawn wider than transformers' init (std 0.5, not 0.02: a residual stream dominated by the perturbed biases
would make all tokens alike), q_proj and k_proj are scaled up so that the attention is far from uniform, and the
script checks that a random nudge of any parameter moves the outputs.

Runs offline with only torch installed: transformers 4.57.6 from its wheel extracted to /tmp/tf-src (or
$TRANSFORMERS_SRC), behind the stubs of hf_stubs.install_transformers().

Usage:  /tmp/venv/bin/python make_clip_text_fixture.py [OUT_DIR]   (default OUT_DIR = core/src/test/resources/golden/clip_text)

Per config, OUT_DIR/<name>/ gets (laid out as a user's text_encoder/ folder):
  config.json         written by transformers' own save_pretrained()
  model.safetensors   the state dict under transformers' key names, F32 (save_pretrained, through st_io.py)
  io.safetensors      input_ids and the reference outputs (see IO_DOC)
  meta.json           provenance, shapes, pooled positions, how far wrong variants land, sha256 of the .safetensors
"""
import os

import hf_stubs

hf_stubs.install_transformers()  # before golden_common, which imports diffusers

import golden_common as common  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection  # noqa: E402
from transformers.models.clip import modeling_clip  # noqa: E402
from transformers.models.clip.modeling_clip import CLIPAttention  # noqa: E402

WEIGHTS = "model.safetensors"
BOS, END = 998, 999

IO_DOC = {
    "input_ids": "int64 [3, 77]: row 0 = bos, 5 ids, 999, then 999 as padding; row 1 = bos, 12 ids (one of them 2), "
                 "999, then 0 as padding; row 2 = bos, 75 ids, 999",
    "last_hidden_state": "model(input_ids).last_hidden_state [3, 77, hidden] (after the final layer norm)",
    "pooler_output": "[3, hidden]: last_hidden_state at the pooled position (CLIPTextModel's pooler_output; for "
                     "CLIPTextModelWithProjection, model.text_model(input_ids).pooler_output)",
    "hidden_states.K": "output_hidden_states=True: K=0 the embeddings, K=k the output of layer k (before the final "
                       "layer norm)",
    "penultimate_normed": "final_layer_norm(hidden_states[-2]): what diffusers' encode_prompt returns for clip_skip=1",
    "text_embeds": "CLIPTextModelWithProjection: text_projection(pooled) [3, projection_dim] (no normalisation)",
}

COMMON = dict(vocab_size=1000, hidden_size=32, intermediate_size=37, num_attention_heads=4,
              max_position_embeddings=77, layer_norm_eps=1e-5, bos_token_id=BOS)
CONFIGS = [
    ("clip_text_sd1_tiny", 3031, CLIPTextModel,
     dict(COMMON, num_hidden_layers=3, hidden_act="quick_gelu", eos_token_id=2, pad_token_id=1)),
    ("clip_text_sd2_tiny", 3032, CLIPTextModelWithProjection,
     dict(COMMON, num_hidden_layers=4, hidden_act="gelu", projection_dim=24, eos_token_id=END, pad_token_id=0)),
]


def input_ids(gen):
    """Words are drawn from 3..997 (never the start, end or legacy eos id), then id 2 is planted in row 1."""
    def words(n):
        return torch.randint(3, BOS, (n,), generator=gen).tolist()
    rows = [[BOS] + words(5) + [END], [BOS] + words(12) + [END], [BOS] + words(75) + [END]]
    rows[1][4] = 2
    rows[0] += [END] * (77 - len(rows[0]))
    rows[1] += [0] * (77 - len(rows[1]))
    return torch.tensor(rows, dtype=torch.int64)


def pooled_positions(ids):
    """Where each rule would pool, per row: what transformers does depends on config.eos_token_id."""
    return {
        "argmax_of_ids (legacy eos_token_id 2)": ids.argmax(-1).tolist(),
        "first_999 (eos_token_id 999)": (ids == END).int().argmax(-1).tolist(),
        "last_999": (ids.shape[1] - 1 - (ids == END).flip(-1).int().argmax(-1)).tolist(),
        "first_2": (ids == 2).int().argmax(-1).tolist(),
        "last_position": [ids.shape[1] - 1] * ids.shape[0],
    }


def outputs(model, ids):
    with torch.no_grad():
        o = model(input_ids=ids, output_hidden_states=True)
        text = model.text_model
        res = {"last_hidden_state": o.last_hidden_state}
        if isinstance(model, CLIPTextModelWithProjection):
            res["text_embeds"] = o.text_embeds
            res["pooler_output"] = text(input_ids=ids).pooler_output  # what text_projection was applied to
        else:
            res["pooler_output"] = o.pooler_output
        for k, h in enumerate(o.hidden_states):
            res[f"hidden_states.{k}"] = h
        res["penultimate_normed"] = text.final_layer_norm(o.hidden_states[-2])
    return res


def outputs_f64(model, ids):
    """transformers' causal mask is torch.full(..., finfo(dtype).min) in the default dtype: make that float64 too."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return outputs(model, ids)
    finally:
        torch.set_default_dtype(saved)


def widen_embeddings(model, gen):
    """transformers draws both embeddings with std 0.02: redraw them with std 0.5, on the scale of the rest."""
    with torch.no_grad():
        emb = model.text_model.embeddings
        for w in (emb.token_embedding.weight, emb.position_embedding.weight):
            w.copy_(0.5 * torch.randn(w.shape, generator=gen))


def sharpen_attention(model, factor=3.0):
    """Every q_proj and k_proj weight x factor: the attention logits grow factor^2-fold, far from uniform."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, CLIPAttention):
                m.q_proj.weight.mul_(factor)
                m.k_proj.weight.mul_(factor)


def attention_sharpness(model, ids):
    """Mean over heads and rows of the largest attention weight (1/(i+1) would be uniform under the causal mask)."""
    with torch.no_grad():
        att = model(input_ids=ids, output_attentions=True).attentions
    return [round(float(a.max(-1).values.mean()), 4) for a in att]


def max_diff(a, b):
    return {k: float((a[k].double() - b[k].double()).abs().max()) for k in a}


# k_proj's bias adds q.b_k to every logit of a query's row: the softmax cancels it, in the reference as anywhere
NO_EFFECT_BY_DESIGN = "self_attn.k_proj.bias"


def params_without_effect(model, ids):
    """The parameters whose random nudge (1e-2 N(0,1) on each value) leaves every output within 1e-5, apart from
    those that cancel by design (NO_EFFECT_BY_DESIGN): there must be none, or the fixture would not check them."""
    gen = torch.Generator().manual_seed(0)
    base = outputs(model, ids)
    dead = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            nudge = 1e-2 * torch.randn(p.shape, generator=gen)
            p.add_(nudge)
            if max(max_diff(base, outputs(model, ids)).values()) < 1e-5 and not name.endswith(NO_EFFECT_BY_DESIGN):
                dead.append(name)
            p.sub_(nudge)
    return dead


def wrong_variants(cls, out, ids, res):
    """How far wrong readings of the model land: a parity test must fail on each."""
    wrong = {}

    def reload(**kw):
        return cls.from_pretrained(out, **kw).eval()

    # the other activation
    other = "gelu" if cls is CLIPTextModel else "quick_gelu"
    wrong[f"hidden_act_{other}"] = {"last_hidden_state": max_diff(res, outputs(reload(hidden_act=other), ids))[
        "last_hidden_state"]}
    # pooled at another position (the naive rules of pooled_positions)
    m = reload()
    rows = torch.arange(ids.shape[0])
    pooled_key = "text_embeds" if "text_embeds" in res else "pooler_output"
    for rule, positions in pooled_positions(ids).items():
        with torch.no_grad():
            pooled = res["last_hidden_state"][rows, torch.tensor(positions)]
            if pooled_key == "text_embeds":
                pooled = m.text_projection(pooled)
        d = float((pooled.double() - res[pooled_key].double()).abs().max())
        wrong["pooled_at_" + rule.split(" ")[0]] = {pooled_key: d}
    # no causal mask
    m = reload(attn_implementation="eager")
    saved = modeling_clip._create_4d_causal_attention_mask
    modeling_clip._create_4d_causal_attention_mask = lambda shape, dtype, device: None
    try:
        wrong["no_causal_mask"] = {"last_hidden_state": max_diff(res, outputs(m, ids))["last_hidden_state"]}
    finally:
        modeling_clip._create_4d_causal_attention_mask = saved
    # layer norm eps 1e-6 (the default of many ports) instead of 1e-5
    m = reload(layer_norm_eps=1e-6)
    wrong["layer_norm_eps_1e-6"] = {"last_hidden_state": max_diff(res, outputs(m, ids))["last_hidden_state"]}
    return wrong


def make_one(out_root, name, seed, cls, cfg, ids):
    out = os.path.join(out_root, name)
    torch.manual_seed(seed)
    config = CLIPTextConfig(**cfg)
    model = cls(config).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    perturbed = common.perturb_constant_params(model, gen)
    widen_embeddings(model, gen)
    sharpen_attention(model)

    res = outputs(model, ids)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    common.st_io.save_file({"input_ids": ids, **{k: v.contiguous() for k, v in res.items()}},
                           os.path.join(out, common.IO))

    def reload(**kw):
        return cls.from_pretrained(out, **kw).eval()

    reloaded = reload()
    for k, v in outputs(reloaded, ids).items():
        assert torch.equal(res[k], v), f"from_pretrained round-trip mismatch in {k}"
    eager = reload(attn_implementation="eager")
    f64 = reload().double()
    dead = params_without_effect(reload(), ids)
    assert not dead, f"parameters without effect on the outputs: {dead}"

    meta = {
        "transformers_version": transformers.__version__,
        "transformers_source": "transformers-4.57.6-py3-none-any.whl, extracted",
        "torch_version": torch.__version__,
        "model_class": cls.__name__,
        "attn_implementation": model.config._attn_implementation,
        "n_params": sum(p.numel() for p in model.parameters()),
        "seed": seed,
        "config_kwargs": cfg,
        "perturbed_constant_params": {"count": len(perturbed),
                                      "rule": "param was constant at init (LayerNorm weight=1/bias=0, linear bias=0)"
                                              " -> += 0.2*N(0,1)"},
        "widened_embeddings": "token_embedding and position_embedding redrawn as 0.5*N(0,1)",
        "sharpened_attention": "every q_proj and k_proj weight x3 (attention logits x9)",
        "attention_mean_max_weight_per_layer": attention_sharpness(eager, ids),
        "attention_mean_max_weight_if_uniform": round(sum(1 / (i + 1) for i in range(77)) / 77, 4),
        "params_without_effect": dead,
        "params_without_effect_by_design": "every self_attn.k_proj.bias: it adds q.b_k to all logits of a row, "
                                           "which the softmax cancels",
        "pooled_positions_by_rule": pooled_positions(ids),
        "pooling_note": "999 is the largest id, so in these rows the legacy argmax rule and the first-999 rule pool "
                        "at the same positions (a port may use either); the other rules do not",
        "pooling_rule_used": ("legacy: argmax of input_ids per row (config.eos_token_id == 2)"
                              if cfg["eos_token_id"] == 2 else
                              f"first position of eos_token_id {cfg['eos_token_id']} per row"),
        "io_tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                           "doc": IO_DOC["hidden_states.K" if k.startswith("hidden_states.") else k]}
                       for k, v in {"input_ids": ids, **res}.items()},
        "max_abs_output": {k: float(v.abs().max()) for k, v in res.items()},
        "max_abs_diff_vs_eager_attention": max_diff(res, outputs(eager, ids)),
        "max_abs_diff_f32_vs_f64": max_diff(res, outputs_f64(f64, ids)),
        "max_abs_diff_of_wrong_variants": wrong_variants(cls, out, ids, res),
        "sha256": {WEIGHTS: common.sha256(os.path.join(out, WEIGHTS)),
                   common.IO: common.sha256(os.path.join(out, common.IO))},
    }
    common.write_meta(out, meta)
    return model, meta


def main():
    common.deterministic_torch()
    out_root = common.fixture_root("clip_text")
    ids = input_ids(torch.Generator().manual_seed(77))
    for name, seed, cls, cfg in CONFIGS:
        model, meta = make_one(out_root, name, seed, cls, cfg, ids)
        out = os.path.join(out_root, name)
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        print(f"== {name}: {meta['n_params']} params, {size} bytes, attention {meta['attn_implementation']}")
        print("   sha256:", meta["sha256"])
        for key in ["pooling_rule_used", "pooled_positions_by_rule", "attention_mean_max_weight_per_layer",
                    "max_abs_output", "max_abs_diff_vs_eager_attention", "max_abs_diff_f32_vs_f64",
                    "max_abs_diff_of_wrong_variants"]:
            print(f"   {key}:", meta[key])


if __name__ == "__main__":
    main()
