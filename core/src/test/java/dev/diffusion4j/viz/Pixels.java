package dev.diffusion4j.viz;

import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.function.IntPredicate;

/** Reading rendered plots back: the viz tests check pixels, not that a picture was written. */
final class Pixels {
    private Pixels() {
    }

    /** The 0xRRGGBB value of a pixel; plots are opaque, so alpha carries nothing. */
    static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    static int rgb(Color c) {
        return c.getRGB() & 0xFFFFFF;
    }

    /** The mean of the three channels, 0 (black) to 255 (white). */
    static double brightness(int rgb) {
        return ((rgb >> 16 & 0xFF) + (rgb >> 8 & 0xFF) + (rgb & 0xFF)) / 3.0;
    }

    /** Whether every channel of {@code rgb} is within {@code tolerance} of {@code expected}'s. */
    static boolean within(int rgb, int expected, int tolerance) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs((rgb >> shift & 0xFF) - (expected >> shift & 0xFF)) > tolerance) {
                return false;
            }
        }
        return true;
    }

    static boolean same(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return false;
        }
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                if (a.getRGB(x, y) != b.getRGB(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }

    static Rectangle whole(BufferedImage img) {
        return new Rectangle(0, 0, img.getWidth(), img.getHeight());
    }

    /** The smallest rectangle holding every pixel of {@code region} whose colour matches; null if none does. */
    static Rectangle extent(BufferedImage img, Rectangle region, IntPredicate colour) {
        Rectangle r = region.intersection(whole(img));
        Rectangle found = null;
        for (int y = r.y; y < r.y + r.height; y++) {
            for (int x = r.x; x < r.x + r.width; x++) {
                if (colour.test(rgb(img, x, y))) {
                    Rectangle p = new Rectangle(x, y, 1, 1);
                    found = found == null ? p : found.union(p);
                }
            }
        }
        return found;
    }

    /** {@link #extent} of the pixels of exactly one colour. */
    static Rectangle extent(BufferedImage img, Rectangle region, Color colour) {
        int wanted = rgb(colour);
        return extent(img, region, c -> c == wanted);
    }

    /** How many pixels of {@code region} match. */
    static int count(BufferedImage img, Rectangle region, IntPredicate colour) {
        Rectangle r = region.intersection(whole(img));
        int n = 0;
        for (int y = r.y; y < r.y + r.height; y++) {
            for (int x = r.x; x < r.x + r.width; x++) {
                n += colour.test(rgb(img, x, y)) ? 1 : 0;
            }
        }
        return n;
    }

    /** The pixel rectangle of a plot area. */
    static Rectangle of(PlotArea a) {
        return new Rectangle(a.x(), a.y(), a.width(), a.height());
    }
}
