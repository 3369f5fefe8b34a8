package dev.diffusion4j.text;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Captions for labelled images that come without any (Fashion-MNIST, image folders), built from
 * the class name and two attributes read off the pixels, so that a text-conditioned model has
 * prompts to learn from: "a photo of a small dark sandal", "a light coat", "sneaker".
 *
 * <ul>
 * <li>tone: mean intensity of the object's pixels (those above 10 % of full scale) — "dark" below
 *     {@value #DARK}, "light" above {@value #LIGHT};</li>
 * <li>size: the share of the frame those pixels cover — "small" below {@value #SMALL}, "large" above
 *     {@value #LARGE}.</li>
 * </ul>
 * Each caption picks one of {@link #TEMPLATES} at random, so the class name appears in different
 * company and prompts of any of these forms work.
 */
public final class Captions {
    static final double DARK = 0.35;
    static final double LIGHT = 0.6;
    static final double SMALL = 0.3;
    static final double LARGE = 0.55;
    private static final double OBJECT = 0.1;

    /** Caption forms: {name}, {tone} and {size} are filled in; a missing attribute leaves no gap. */
    public static final List<String> TEMPLATES = List.of("{name}", "a {name}", "a photo of a {name}", "a {tone} {name}",
            "a {size} {name}", "a photo of a {size} {tone} {name}");

    private final List<String> names;
    private final ClipTokenizer tokenizer;
    private final int contextLength;

    public Captions(List<String> classNames, ClipTokenizer tokenizer, int contextLength) {
        if (classNames.isEmpty()) {
            throw new DiffusionException("captions are built from class names, and this data set names no classes");
        }
        this.names = classNames.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
    }

    /** The attributes of one image with values in [−1, 1]: {tone, size}, each possibly empty. */
    public static String[] attributes(float[] pixels, int offset, int length) {
        double sum = 0;
        int covered = 0;
        for (int i = offset; i < offset + length; i++) {
            double v = (pixels[i] + 1) / 2;
            if (v > OBJECT) {
                sum += v;
                covered++;
            }
        }
        double tone = covered == 0 ? 0 : sum / covered;
        double size = (double) covered / length;
        return new String[] {tone < DARK ? "dark" : tone > LIGHT ? "light" : "", size < SMALL ? "small" : size > LARGE ? "large" : ""};
    }

    /** The caption of template {@code template} for class {@code label} with the given attributes. */
    public String caption(int template, int label, String tone, String size) {
        String s = TEMPLATES.get(template).replace("{name}", names.get(label)).replace("{tone}", tone).replace("{size}", size);
        return s.replaceAll("\\s+", " ").strip();
    }

    /**
     * A random caption for each image of {@code images} [B, C, H, W] (values in [−1, 1]) with class
     * {@code labels} [B]; the template choices come from {@code g}.
     */
    public List<String> captions(Tensor images, Tensor labels, Generator g) {
        int b = (int) images.size(0);
        float[] px = images.contiguous().toFloatArray();
        long[] ys = labels.toLongArray();
        double[] u = Tensor.rand(g, b).toDoubleArray();
        int per = px.length / b;
        List<String> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            String[] attr = attributes(px, i * per, per);
            int template = Math.min((int) (u[i] * TEMPLATES.size()), TEMPLATES.size() - 1);
            out.add(caption(template, (int) ys[i], attr[0], attr[1]));
        }
        return out;
    }

    /** Token ids [B, L] of {@link #captions}' captions for these images. */
    public Tensor tokens(Tensor images, Tensor labels, Generator g) {
        return tokenizer.ids(captions(images, labels, g), contextLength);
    }
}
