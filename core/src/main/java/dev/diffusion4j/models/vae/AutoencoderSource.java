package dev.diffusion4j.models.vae;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.io.ModelFolder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An autoencoder as a user names it for latent diffusion — a {@code train-vae} run directory (its
 * {@code vae/} folder) or a diffusers {@code vae/} folder itself — loaded, with the folder it was
 * read from and the SHA-256 of its weights, which names it in the latent model's config.
 */
public record AutoencoderSource(Path folder, AutoencoderKL autoencoder, String sha256) {
    /** The run's {@code vae/} sub-folder when {@code given} has one, else {@code given} itself. */
    public static Path resolve(Path given) {
        Path nested = given.resolve("vae");
        if (Files.isRegularFile(nested.resolve(AutoencoderKL.CONFIG_FILE))) {
            return nested.toAbsolutePath().normalize();
        }
        if (Files.isRegularFile(given.resolve(AutoencoderKL.CONFIG_FILE)) && Files.isRegularFile(given.resolve(AutoencoderKL.WEIGHTS_FILE))) {
            return given.toAbsolutePath().normalize();
        }
        throw new DiffusionException(given + " is neither a train-vae run (with a vae/ folder; a run writes it when it finishes) nor a "
                + "diffusers vae/ folder (" + AutoencoderKL.CONFIG_FILE + " and " + AutoencoderKL.WEIGHTS_FILE + ")");
    }

    public static AutoencoderSource open(Path given) {
        Path folder = resolve(given);
        return new AutoencoderSource(folder, AutoencoderKL.load(folder), sha256(folder));
    }

    /** SHA-256 of the weights of the autoencoder folder {@code folder}. */
    public static String sha256(Path folder) {
        return ModelFolder.sha256(folder, AutoencoderKL.WEIGHTS_FILE);
    }

    /**
     * Fails unless {@code given} names the autoencoder whose weights hash to {@code expected}: a latent
     * model only makes sense with the autoencoder it learnt the latents of.
     */
    public static void requireSame(Path given, String expected) {
        Path folder = resolve(given);
        String actual = sha256(folder);
        if (!actual.equals(expected)) {
            throw new DiffusionException("the model learnt the latents of the autoencoder with weights " + expected.substring(0, 16)
                    + "…, but " + folder + " holds " + actual.substring(0, 16) + "…: point it at the autoencoder it was trained with");
        }
    }
}
