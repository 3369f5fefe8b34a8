package dev.diffusion4j.sampling;

import java.util.function.IntToDoubleFunction;

/** Convergence orders measured from errors at several step counts. */
final class Orders {
    private Orders() {
    }

    /** Least-squares slope of y against x. */
    static double slope(double[] x, double[] y) {
        int n = x.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i] / n;
            my += y[i] / n;
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < n; i++) {
            num += (x[i] - mx) * (y[i] - my);
            den += (x[i] - mx) * (x[i] - mx);
        }
        return num / den;
    }

    /** The fitted order: slope of −log(error(steps)) against log(steps). */
    static double of(int[] steps, IntToDoubleFunction error) {
        double[] lx = new double[steps.length];
        double[] ly = new double[steps.length];
        for (int i = 0; i < steps.length; i++) {
            lx[i] = Math.log(steps[i]);
            ly[i] = -Math.log(error.applyAsDouble(steps[i]));
        }
        return slope(lx, ly);
    }
}
