package dev.diffusion4j.data;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Pixel-level image operations on 8-bit planes laid out [C, H, W]: centre crop with area-averaging
 * resize, and grey/RGB conversion.
 */
final class ImageTransforms {
    private ImageTransforms() {
    }

    /**
     * Resizes so the shorter side is {@code size} and keeps the centred {@code size}×{@code size}
     * square. Each output pixel is the average of the source area it covers (a box filter with
     * fractional edge weights), which is exact for downscaling by any factor and blends linearly
     * across one pixel edge when enlarging; results are rounded to the nearest level.
     */
    static byte[] resizeCenterCrop(byte[] chw, int channels, int height, int width, int size) {
        int side = Math.min(height, width);
        if (height == size && width == size) {
            return chw;
        }
        AxisWeights cols = new AxisWeights(width, side, size);
        AxisWeights rows = new AxisWeights(height, side, size);
        byte[] out = new byte[channels * size * size];
        float[] horizontal = new float[height * size];
        for (int c = 0; c < channels; c++) {
            int plane = c * height * width;
            for (int y = 0; y < height; y++) {
                for (int j = 0; j < size; j++) {
                    horizontal[y * size + j] = cols.apply(chw, plane + y * width, 1, j);
                }
            }
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < size; j++) {
                    float v = rows.apply(horizontal, j, size, i);
                    out[c * size * size + i * size + j] = (byte) Math.max(0, Math.min(255, Math.round(v)));
                }
            }
        }
        return out;
    }

    /** For each output pixel of one axis: the first source pixel it covers and the covered fractions. */
    private static final class AxisWeights {
        final int[] first;
        final float[][] weights;

        /** {@code out} pixels covering the centred span of {@code side} pixels of an axis {@code in} long. */
        AxisWeights(int in, int side, int out) {
            double offset = (in - side) / 2.0;
            double step = (double) side / out;
            first = new int[out];
            weights = new float[out][];
            for (int i = 0; i < out; i++) {
                double a = offset + i * step;
                double b = a + step;
                int k0 = (int) Math.floor(a);
                int k1 = Math.min(in - 1, (int) Math.ceil(b) - 1);
                first[i] = k0;
                weights[i] = new float[k1 - k0 + 1];
                for (int k = k0; k <= k1; k++) {
                    weights[i][k - k0] = (float) ((Math.min(b, k + 1) - Math.max(a, k)) / step);
                }
            }
        }

        float apply(byte[] src, int base, int stride, int i) {
            float sum = 0;
            float[] w = weights[i];
            int at = base + first[i] * stride;
            for (int k = 0; k < w.length; k++, at += stride) {
                sum += w[k] * (src[at] & 0xff);
            }
            return sum;
        }

        float apply(float[] src, int base, int stride, int i) {
            float sum = 0;
            float[] w = weights[i];
            int at = base + first[i] * stride;
            for (int k = 0; k < w.length; k++, at += stride) {
                sum += w[k] * src[at];
            }
            return sum;
        }
    }

    /**
     * Converts one image's planes from {@code from} to {@code to} channels: grey to RGB copies the
     * plane three times; RGB to grey takes the ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B,
     * rounded (the weights of JPEG and of PIL's "L" mode).
     */
    static byte[] convertChannels(byte[] chw, int from, int to, int pixels) {
        if (from == to) {
            return chw;
        }
        byte[] out = new byte[to * pixels];
        if (to == 3) {
            for (int c = 0; c < 3; c++) {
                System.arraycopy(chw, 0, out, c * pixels, pixels);
            }
            return out;
        }
        for (int p = 0; p < pixels; p++) {
            out[p] = (byte) luma(chw[p] & 0xff, chw[pixels + p] & 0xff, chw[2 * pixels + p] & 0xff);
        }
        return out;
    }

    /** ITU-R BT.601 luma, rounded to the nearest level. */
    static int luma(int r, int g, int b) {
        return (int) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }

    /** Applies {@link #resizeCenterCrop} (when {@code size} is not null) and {@link #convertChannels} to every image of {@code d}. */
    static ImageDataset apply(ImageDataset d, Integer size, Integer channels) {
        int c = d.channels();
        int h = d.height();
        int w = d.width();
        int toSize = size == null ? -1 : size;
        int toC = channels == null ? c : channels;
        if ((size == null || (h == toSize && w == toSize)) && toC == c) {
            return d;
        }
        int outH = size == null ? h : toSize;
        int outW = size == null ? w : toSize;
        byte[] src = d.pixelBytes();
        int item = c * h * w;
        int outItem = toC * outH * outW;
        byte[] out = new byte[d.size() * outItem];
        IntStream.range(0, d.size()).parallel().forEach(n -> {
            byte[] one = Arrays.copyOfRange(src, n * item, (n + 1) * item);
            if (size != null) {
                one = resizeCenterCrop(one, c, h, w, toSize);
            }
            System.arraycopy(convertChannels(one, c, toC, outH * outW), 0, out, n * outItem, outItem);
        });
        return d.withPixels(out, toC, outH, outW);
    }
}
