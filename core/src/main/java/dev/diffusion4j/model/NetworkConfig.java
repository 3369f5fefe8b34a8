package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Backend;
import dev.diffusion4j.tensor.Generator;
import java.util.Map;

/**
 * The architecture of a denoising network, as stored in the {@code model} section of a
 * checkpoint's config.json; {@code model_type} says which kind it is.
 */
public interface NetworkConfig {
    /** The config.json {@code model_type}. */
    String modelType();

    /** Shape of one data item the network takes and returns: [dim] for vectors, [C, H, W] for images. */
    long[] sampleShape();

    /**
     * For networks that take images of any size: the number height and width must be multiples of
     * (a U-Net halves the image once per level); 0 for networks of one fixed shape.
     */
    default int sizeMultiple() {
        return 0;
    }

    /**
     * This architecture conditioned on {@code classes} class labels (plus the learned null label that
     * classifier-free guidance needs); an error for networks without a class embedding.
     */
    default NetworkConfig withClasses(int classes) {
        throw new DiffusionException(modelType() + " networks have no class embedding; train a class-conditional MLP or U-Net");
    }

    /** This architecture conditioned on captions through cross-attention; an error for networks without it. */
    default NetworkConfig withText() {
        throw new DiffusionException(modelType() + " networks have no cross-attention; text conditioning takes the U-Net");
    }

    /** Whether the network also outputs its reverse-step variance. */
    VarianceType varianceType();

    /** A freshly initialised network of this architecture. */
    DenoisingNetwork build(Generator g);

    /** The config.json {@code model} section, including {@code model_type}. */
    Map<String, Object> toConfig();

    /**
     * Which thread pool should get the cores for this network: matrix products for MLPs, libtorch's
     * own pool for convolutional nets, whose convolutions, norms and activations run there.
     */
    default Backend.ThreadPolicy threadPolicy() {
        return sampleShape().length == 3 ? Backend.ThreadPolicy.OP_PARALLEL : Backend.ThreadPolicy.BLAS_PARALLEL;
    }

    /** Gives the cores to this network's thread pool ({@link #threadPolicy()}). */
    default void applyThreadPolicy() {
        Backend.useThreadPolicy(threadPolicy());
    }

    /** Number of values in one data item. */
    default long sampleNumel() {
        long n = 1;
        for (long s : sampleShape()) {
            n *= s;
        }
        return n;
    }

    /** Reads a {@code model} section, dispatching on its {@code model_type}. */
    static NetworkConfig fromConfig(Map<String, Object> model) {
        Object type = model.get("model_type");
        if (MlpConfig.TYPE.equals(type)) {
            return MlpConfig.fromConfig(model);
        }
        if (UNet2DConfig.TYPE.equals(type) || (type == null && "UNet2DModel".equals(model.get("_class_name")))) {
            return UNet2DConfig.fromConfig(model);
        }
        if (SeedUNetConfig.TYPE.equals(type)) {
            return SeedUNetConfig.fromConfig(model);
        }
        if (TextUNet2DConfig.TYPE.equals(type)) {
            return TextUNet2DConfig.fromConfig(model);
        }
        if (TextUNet2DConditionConfig.TYPE.equals(type)) {
            return TextUNet2DConditionConfig.fromConfig(model);
        }
        throw new DiffusionException("unknown model_type '" + type + "' in config.json (this version knows: " + MlpConfig.TYPE
                + ", " + UNet2DConfig.TYPE + ", " + SeedUNetConfig.TYPE + ", " + TextUNet2DConfig.TYPE + ", "
                + TextUNet2DConditionConfig.TYPE + ")");
    }
}
