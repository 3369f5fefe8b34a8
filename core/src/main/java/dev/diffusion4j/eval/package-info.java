/**
 * Sample-quality metrics: two-sample discrepancies (energy distance, MMD, sliced Wasserstein)
 * used to score generated samples against data, and to test samplers against known distributions.
 */
package dev.diffusion4j.eval;
