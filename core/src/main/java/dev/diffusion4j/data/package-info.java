/**
 * Training data: built-in 2-D toy distributions, numeric CSV tables, images (built-in Fashion-MNIST,
 * the captioned emoji sets, IDX files, .npy arrays, folders of PNG/JPEG with optional captions), the
 * {@link dev.diffusion4j.data.DataSource} interface that trainers draw minibatches from, and
 * per-dimension normalisation.
 */
package dev.diffusion4j.data;
