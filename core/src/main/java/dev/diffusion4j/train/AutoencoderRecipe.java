package dev.diffusion4j.train;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ConfigValues;
import dev.diffusion4j.tensor.Precision;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How an autoencoder is trained with the latent-diffusion recipe (Rombach et al. 2022, after Esser
 * et al. 2021): per-pixel L1 reconstruction, a perceptual term, a small KL pull of the posterior to
 * N(0, I), and from step {@code discStart} on a patch critic's hinge loss whose weight adapts to the
 * gradients (see {@link AutoencoderTrainer}). The weights keep the original's meaning: the original
 * sums its reconstruction terms over pixels, this project averages them, and every weight here is
 * relative to that per-pixel average, so a KL weight of 1e-6 is the original's 1e-6.
 *
 * <pre>{@code
 * AutoencoderRecipe recipe = AutoencoderRecipe.builder("emoji").steps(8000).build();
 * }</pre>
 * Stored as the {@code training} section of an autoencoder checkpoint's config.json.
 */
public record AutoencoderRecipe(String data, long seed, int steps, int batchSize, double lr, int warmupSteps, double gradClip,
                                double emaDecay, double klWeight, double perceptualWeight, String perceptualNetwork,
                                int perceptualSteps, double discWeight, int discStart, int criticWarmup, int discWidth, int discLayers,
                                int checkpointEvery, int keepCheckpoints, int imageSize, int channels, Precision precision) {

    private static final Set<String> KEYS = Set.of("data", "seed", "steps", "batch_size", "learning_rate", "lr_warmup_steps",
            "max_grad_norm", "ema_decay", "kl_weight", "perceptual_weight", "perceptual_network", "perceptual_steps",
            "disc_weight", "disc_start", "critic_warmup", "disc_width", "disc_layers", "checkpoint_every", "keep_checkpoints", "image_size", "channels",
            "precision");
    /** Settings a resumed run keeps: its data, random streams and the shapes of the networks its checkpoint holds. */
    private static final Set<String> FIXED_ON_RESUME = Set.of("data", "seed", "perceptual_network", "perceptual_steps", "disc_width",
            "disc_layers", "image_size", "channels");

    public AutoencoderRecipe {
        require(data != null && !data.isBlank(), "data is required (a built-in name or an image folder)");
        require(steps >= 1, "steps must be at least 1, got " + steps);
        require(batchSize >= 1, "batch_size must be at least 1, got " + batchSize);
        require(lr > 0 && Double.isFinite(lr), "learning_rate must be positive, got " + lr);
        require(warmupSteps >= 0, "lr_warmup_steps must be ≥ 0, got " + warmupSteps);
        require(gradClip >= 0, "max_grad_norm must be ≥ 0 (0 disables clipping), got " + gradClip);
        require(emaDecay >= 0 && emaDecay < 1, "ema_decay must be in [0, 1), got " + emaDecay);
        require(klWeight >= 0 && perceptualWeight >= 0 && discWeight >= 0, "kl_weight, perceptual_weight and disc_weight must be ≥ 0");
        require(perceptualSteps >= 1, "perceptual_steps must be at least 1, got " + perceptualSteps);
        require(discStart >= 0, "disc_start must be ≥ 0, got " + discStart);
        require(criticWarmup >= 0 && criticWarmup <= discStart, "critic_warmup must be in [0, disc_start = " + discStart + "], got "
                + criticWarmup);
        require(discWidth >= 4 && discLayers >= 1 && discLayers <= 5, "disc_width must be ≥ 4 and disc_layers in 1..5");
        require(checkpointEvery >= 1, "checkpoint_every must be at least 1 step, got " + checkpointEvery);
        require(keepCheckpoints >= 1, "keep_checkpoints must be at least 1, got " + keepCheckpoints);
        require(imageSize == 0 || (imageSize >= 8 && imageSize <= 1024), "image_size must be between 8 and 1024 pixels, got " + imageSize);
        require(channels == 0 || channels == 1 || channels == 3, "channels must be 1 (grayscale) or 3 (RGB), got " + channels);
        require(precision != null, "precision is required");
    }

    /**
     * The defaults: 6,000 steps of 16 at lr 2e-4 (Adam β = (0.5, 0.9), the original's), KL weight
     * 1e-6, perceptual weight 1, EMA 0.999, a checkpoint every 1,000 steps, at the
     * {@linkplain Precision#fastest() faster precision} of this machine, and the critic's term from
     * step 3,000 at weight 0.05 (the critic itself learning from step 2,500), with patches of 34
     * pixels (two stride-2 levels, sized for 64-pixel images). The original's weight 0.5 let the
     * autoencoder overpower this small critic within a few steps, which cost 0.9 dB PSNR and 2.5× the
     * rFID on emoji at 4,000 steps; 0.05 kept the game balanced and bought 20% lower rFID for 0.2 dB
     * (README's autoencoder table). With no perceptual network given, one is trained on the data's
     * labels first, for {@code perceptual_steps} steps.
     */
    public static Builder builder(String data) {
        return new Builder(data);
    }

    /** A builder holding this recipe's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Whether the critic's term enters the autoencoder's loss at optimizer step {@code step} (0-based). */
    public boolean discriminatorActive(long step) {
        return discWeight > 0 && step >= discStart;
    }

    /**
     * Whether the critic learns at optimizer step {@code step}: from {@code critic_warmup} steps before
     * its term starts. A critic that first meets the autoencoder's images when they already feed on
     * it cannot tell them apart (its hinge loss stays at 1), so its gradients are small, the adaptive
     * weight grows large and the autoencoder chases noise; a few hundred steps alone let it learn first.
     */
    public boolean criticTraining(long step) {
        return discWeight > 0 && step >= discStart - criticWarmup;
    }

    /**
     * What resuming a run of this recipe as {@code next} changes, one "key old → new" line per
     * setting (empty when nothing does). A resumed run may change its length, learning rate, loss
     * weights, the critic's schedule, EMA decay, precision and checkpointing; what fixes the data,
     * the random streams or the networks a checkpoint holds cannot change, and naming such a change
     * is an error.
     */
    public List<String> changesOnResume(AutoencoderRecipe next) {
        Map<String, Object> before = toConfig();
        Map<String, Object> after = next.toConfig();
        List<String> fixed = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        for (String key : KEYS) {
            Object a = before.get(key);
            Object b = after.get(key);
            if (!Objects.equals(a, b)) {
                (FIXED_ON_RESUME.contains(key) ? fixed : changes).add(key + " " + a + " → " + b);
            }
        }
        if (perceptualWeight == 0 && next.perceptualWeight > 0) {
            fixed.add("perceptual_weight 0 → " + next.perceptualWeight + " (the run has no perceptual network)");
        }
        if ((emaDecay == 0) != (next.emaDecay == 0)) {
            fixed.add("ema_decay " + emaDecay + " → " + next.emaDecay + " (an average cannot start or stop mid-run)");
        }
        require(fixed.isEmpty(), "a resumed run keeps its data, seed, networks and EMA; cannot change " + String.join(", ", fixed)
                + " (start a new run for that)");
        Collections.sort(changes);
        return changes;
    }

    public Map<String, Object> toConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("seed", seed);
        m.put("steps", steps);
        m.put("batch_size", batchSize);
        m.put("learning_rate", lr);
        m.put("lr_warmup_steps", warmupSteps);
        m.put("max_grad_norm", gradClip);
        m.put("ema_decay", emaDecay);
        m.put("kl_weight", klWeight);
        m.put("perceptual_weight", perceptualWeight);
        if (perceptualNetwork != null) {
            m.put("perceptual_network", perceptualNetwork);
        }
        m.put("perceptual_steps", perceptualSteps);
        m.put("disc_weight", discWeight);
        m.put("disc_start", discStart);
        m.put("critic_warmup", criticWarmup);
        m.put("disc_width", discWidth);
        m.put("disc_layers", discLayers);
        m.put("checkpoint_every", checkpointEvery);
        m.put("keep_checkpoints", keepCheckpoints);
        m.put("image_size", imageSize);
        m.put("channels", channels);
        m.put("precision", precision.configName());
        return m;
    }

    /** The recipe {@link #toConfig} wrote; unknown keys are refused. */
    public static AutoencoderRecipe fromConfig(Map<String, Object> m) {
        for (String k : m.keySet()) {
            require(KEYS.contains(k), "unknown key '" + k + "' in the autoencoder's training section");
        }
        try {
            return new AutoencoderRecipe((String) m.get("data"), num(m, "seed").longValue(), num(m, "steps").intValue(),
                    num(m, "batch_size").intValue(), num(m, "learning_rate").doubleValue(), num(m, "lr_warmup_steps").intValue(),
                    num(m, "max_grad_norm").doubleValue(), num(m, "ema_decay").doubleValue(), num(m, "kl_weight").doubleValue(),
                    num(m, "perceptual_weight").doubleValue(), (String) m.get("perceptual_network"),
                    num(m, "perceptual_steps").intValue(), num(m, "disc_weight").doubleValue(), num(m, "disc_start").intValue(),
                    // runs written before the critic's warm-up existed had none
                    m.containsKey("critic_warmup") ? num(m, "critic_warmup").intValue() : 0, num(m, "disc_width").intValue(), num(m, "disc_layers").intValue(), num(m, "checkpoint_every").intValue(),
                    num(m, "keep_checkpoints").intValue(), num(m, "image_size").intValue(), num(m, "channels").intValue(),
                    Precision.parse((String) m.get("precision")));
        } catch (ClassCastException | NullPointerException e) {
            throw new DiffusionException("the autoencoder's training section is malformed: " + e.getMessage());
        }
    }

    private static Number num(Map<String, Object> m, String key) {
        require(m.containsKey(key), "the autoencoder's training section lacks '" + key + "'");
        return ConfigValues.number(m, key, null, "the autoencoder's training");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new DiffusionException(message);
        }
    }

    /** Changes a recipe by name; {@link #build()} checks it. */
    public static final class Builder {
        private String data;
        private long seed;
        private int steps = 6000;
        private int batchSize = 16;
        private double lr = 2e-4;
        private int warmupSteps = 100;
        private double gradClip = 1.0;
        private double emaDecay = 0.999;
        private double klWeight = 1e-6;
        private double perceptualWeight = 1.0;
        private String perceptualNetwork;
        private int perceptualSteps = 500;
        private double discWeight = 0.05;
        private int discStart = 3000;
        private int criticWarmup = 500;
        private int discWidth = 32;
        private int discLayers = 2;
        private int checkpointEvery = 1000;
        private int keepCheckpoints = 2;
        private int imageSize;
        private int channels;
        private Precision precision = Precision.fastest();

        private Builder(String data) {
            this.data = data;
        }

        private Builder(AutoencoderRecipe r) {
            this(r.data);
            seed = r.seed;
            steps = r.steps;
            batchSize = r.batchSize;
            lr = r.lr;
            warmupSteps = r.warmupSteps;
            gradClip = r.gradClip;
            emaDecay = r.emaDecay;
            klWeight = r.klWeight;
            perceptualWeight = r.perceptualWeight;
            perceptualNetwork = r.perceptualNetwork;
            perceptualSteps = r.perceptualSteps;
            discWeight = r.discWeight;
            discStart = r.discStart;
            criticWarmup = r.criticWarmup;
            discWidth = r.discWidth;
            discLayers = r.discLayers;
            checkpointEvery = r.checkpointEvery;
            keepCheckpoints = r.keepCheckpoints;
            imageSize = r.imageSize;
            channels = r.channels;
            precision = r.precision;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder steps(int v) {
            steps = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        public Builder gradClip(double v) {
            gradClip = v;
            return this;
        }

        public Builder emaDecay(double v) {
            emaDecay = v;
            return this;
        }

        public Builder klWeight(double v) {
            klWeight = v;
            return this;
        }

        public Builder perceptualWeight(double v) {
            perceptualWeight = v;
            return this;
        }

        /** A classifier file ({@code diffuse train-classifier}) whose feature maps the perceptual term compares. */
        public Builder perceptualNetwork(String v) {
            perceptualNetwork = v;
            return this;
        }

        public Builder perceptualSteps(int v) {
            perceptualSteps = v;
            return this;
        }

        public Builder discWeight(double v) {
            discWeight = v;
            return this;
        }

        public Builder discStart(int v) {
            discStart = v;
            return this;
        }

        /** Steps the critic learns alone before its term enters the autoencoder's loss; capped at disc_start. */
        public Builder criticWarmup(int v) {
            criticWarmup = v;
            return this;
        }

        public Builder discWidth(int v) {
            discWidth = v;
            return this;
        }

        public Builder discLayers(int v) {
            discLayers = v;
            return this;
        }

        public Builder checkpointEvery(int v) {
            checkpointEvery = v;
            return this;
        }

        public Builder keepCheckpoints(int v) {
            keepCheckpoints = v;
            return this;
        }

        public Builder imageSize(int v) {
            imageSize = v;
            return this;
        }

        public Builder channels(int v) {
            channels = v;
            return this;
        }

        public Builder precision(Precision v) {
            precision = v;
            return this;
        }

        public AutoencoderRecipe build() {
            return new AutoencoderRecipe(data, seed, steps, batchSize, lr, warmupSteps, gradClip, emaDecay, klWeight, perceptualWeight,
                    perceptualNetwork, perceptualSteps, discWeight, discStart, Math.min(criticWarmup, discStart), discWidth, discLayers, checkpointEvery, keepCheckpoints,
                    imageSize, channels, precision);
        }
    }
}
