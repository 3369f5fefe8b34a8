package dev.diffusion4j.viz;

import java.awt.Color;

/**
 * The default colours of plot series: saturated enough to stand out on the light plot background,
 * distinct from each other and from the grey used for reference data.
 */
public final class Palette {
    public static final Color BLUE = new Color(0x1F63C6);
    public static final Color ORANGE = new Color(0xE8590C);
    public static final Color GREEN = new Color(0x2B8A3E);
    public static final Color RED = new Color(0xC92A2A);
    public static final Color PURPLE = new Color(0x7048E8);
    public static final Color TEAL = new Color(0x0C8599);
    public static final Color PINK = new Color(0xD6336C);
    public static final Color BROWN = new Color(0x8D5B2F);
    /** Reference data drawn under the samples, e.g. the training distribution. */
    public static final Color REFERENCE = new Color(0x9AA0AB);

    private static final Color[] SERIES = {BLUE, ORANGE, GREEN, RED, PURPLE, TEAL, PINK, BROWN};

    private Palette() {
    }

    /** The colour of the {@code index}-th series, cycling through the eight palette colours. */
    public static Color series(int index) {
        return SERIES[Math.floorMod(index, SERIES.length)];
    }

    static Color withAlpha(Color c, double alpha) {
        return new Color(c.getRed(), c.getGreen(), c.getBlue(), (int) Math.round(Math.max(0, Math.min(1, alpha)) * 255));
    }
}
