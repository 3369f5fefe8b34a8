package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;

/**
 * How to load image data: {@code imageSize} N resizes every image so its shorter side is N (area
 * averaging) and crops the centre N×N (null keeps the native size); {@code channels} 1 or 3
 * converts to grey or RGB (null keeps the native channels: 1 for IDX, RGB for a folder unless all
 * its images are grey); {@code flip} turns random horizontal flips on or off (null: the source's
 * default). Flip defaults to on for image folders, whose photos are as likely mirrored as not (the
 * DDPM setting for CIFAR-10), and to off for IDX, .npy and Fashion-MNIST: those items sit
 * in one canonical pose — every Fashion-MNIST shoe faces the same way — so mirrored samples would
 * be outside the data distribution that sample metrics compare against.
 */
public record ImageOptions(Integer imageSize, Integer channels, Boolean flip) {

    /** Native size, native channels, the source's default flip. */
    public static final ImageOptions NATIVE = new ImageOptions(null, null, null);

    public ImageOptions {
        if (imageSize != null && (imageSize < 1 || imageSize > 4096)) {
            throw new DiffusionException("image size must be between 1 and 4096 pixels, got " + imageSize);
        }
        if (channels != null && channels != 1 && channels != 3) {
            throw new DiffusionException("channels must be 1 (grey) or 3 (RGB), got " + channels);
        }
    }

    /** The channel count of a colour name: gray/grey → 1, rgb → 3, null → null (the data's own). */
    public static Integer channelsOf(String color) {
        if (color == null) {
            return null;
        }
        return switch (color.toLowerCase(java.util.Locale.ROOT)) {
            case "gray", "grey" -> 1;
            case "rgb" -> 3;
            default -> throw new DiffusionException("color must be gray or rgb, got " + color);
        };
    }

    /** Whether every option is left at its default. */
    public boolean isNative() {
        return imageSize == null && channels == null && flip == null;
    }

    /** These options with flip set (null for the source's default). */
    public ImageOptions withFlip(Boolean on) {
        return new ImageOptions(imageSize, channels, on);
    }
}
