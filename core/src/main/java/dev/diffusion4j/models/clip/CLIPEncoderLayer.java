package dev.diffusion4j.models.clip;

import dev.diffusion4j.nn.LayerNorm;
import dev.diffusion4j.nn.Linear;
import dev.diffusion4j.nn.Module;
import dev.diffusion4j.nn.Named;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * One layer of CLIP's text transformer with transformers' names (Radford et al. 2021): pre-norm,
 * causal self-attention, then a two-layer MLP,
 * <pre>
 * h ← h + out_proj(softmax(q kᵀ/√d + causal mask) v),  q, k, v = q_proj, k_proj, v_proj of layer_norm1(h)
 * h ← h + fc2(act(fc1(layer_norm2(h))))
 * </pre>
 */
final class CLIPEncoderLayer extends Module {
    private final LayerNorm layerNorm1;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;
    private final LayerNorm layerNorm2;
    private final Linear fc1;
    private final Linear fc2;
    private final CLIPTextConfig config;

    CLIPEncoderLayer(CLIPTextConfig config, Generator g) {
        this.config = config;
        int c = config.hiddenSize();
        Named attn = child("self_attn", new Named());
        this.kProj = attn.add("k_proj", new Linear(c, c, g));
        this.vProj = attn.add("v_proj", new Linear(c, c, g));
        this.qProj = attn.add("q_proj", new Linear(c, c, g));
        this.outProj = attn.add("out_proj", new Linear(c, c, g));
        this.layerNorm1 = child("layer_norm1", new LayerNorm(c, config.layerNormEps(), true));
        Named mlp = child("mlp", new Named());
        this.fc1 = mlp.add("fc1", new Linear(c, config.intermediateSize(), g));
        this.fc2 = mlp.add("fc2", new Linear(config.intermediateSize(), c, g));
        this.layerNorm2 = child("layer_norm2", new LayerNorm(c, config.layerNormEps(), true));
    }

    /** h [B, L, C] → [B, L, C]. */
    Tensor forward(Tensor h) {
        long b = h.size(0);
        long n = h.size(1);
        long c = h.size(2);
        Tensor x = layerNorm1.forward(h);
        Tensor a = Tensor.scaledDotProductAttention(heads(qProj.forward(x), b, n, c), heads(kProj.forward(x), b, n, c),
                heads(vProj.forward(x), b, n, c), true);
        h = h.add(outProj.forward(a.transpose(1, 2).reshape(b, n, c)));
        return h.add(fc2.forward(config.hiddenAct().apply(fc1.forward(layerNorm2.forward(h)))));
    }

    /** [B, L, C] → [B, heads, L, C/heads]. */
    private Tensor heads(Tensor t, long b, long n, long c) {
        int heads = config.numAttentionHeads();
        return t.view(b, n, heads, c / heads).transpose(1, 2);
    }
}
