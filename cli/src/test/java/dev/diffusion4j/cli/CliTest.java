package dev.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.*;


import com.fasterxml.jackson.databind.JsonNode;
import dev.diffusion4j.io.CheckpointStore;
import dev.diffusion4j.io.Json;
import dev.diffusion4j.io.PngWriter;
import dev.diffusion4j.io.Safetensors;
import dev.diffusion4j.io.SafetensorsFile;
import dev.diffusion4j.pipeline.GenerationRequest;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.train.Trainer;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The diffuse command end to end, in process: outputs, exit codes and one-line user errors. */
class CliTest {
    @TempDir
    static Path shared;
    static Path run;

    /** Result of one CLI invocation. */
    record Run(int code, String out, String err) {
        JsonNode json() {
            String[] lines = out.strip().split("\n");
            return Json.mapper().valueToTree(parse(lines[lines.length - 1]));
        }

        private static Object parse(String line) {
            try {
                return Json.mapper().readValue(line, Object.class);
            } catch (Exception e) {
                throw new AssertionError("last stdout line is not JSON: " + line, e);
            }
        }
    }

    static Run diffuse(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Diffuse.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    static String[] smallTrain(Path out, String data, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data, "--out", out.toString(), "--steps", "200",
                "--hidden", "32", "--blocks", "1", "--timesteps", "100", "--checkpoint-every", "100"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @BeforeAll
    static void trainSmallModel() {
        run = shared.resolve("moons");
        Run r = diffuse(smallTrain(run, "moons", "--json"));
        assertEquals(0, r.code(), r.err());
        assertEquals(200, r.json().get("steps").asInt());
        assertTrue(Files.exists(run.resolve("loss.png")));
    }

    @Test
    void everyCommandHasHelp() {
        CommandLine root = new CommandLine(new Diffuse());
        assertTrue(root.getSubcommands().size() >= 12, root.getSubcommands().keySet().toString());
        for (var c : root.getSubcommands().entrySet()) {
            if (c.getKey().equals("help")) continue;
            Run r = diffuse(c.getKey(), "--help");
            assertEquals(0, r.code(), c.getKey());
            assertTrue(r.out().startsWith("Usage: diffuse " + c.getKey()), c.getKey() + ": " + r.out());
            // picocli formats every description with String.format; a bare '%' there prints the raw text with
            // a warning, so each one as written must format cleanly on its own.
            Class<?> command = c.getValue().getCommandSpec().userObject().getClass();
            List<String> texts = new ArrayList<>(List.of(command.getAnnotation(CommandLine.Command.class).description()));
            for (java.lang.reflect.Field f : command.getDeclaredFields()) {
                CommandLine.Option option = f.getAnnotation(CommandLine.Option.class);
                CommandLine.Parameters parameters = f.getAnnotation(CommandLine.Parameters.class);
                texts.addAll(List.of(option != null ? option.description() : parameters != null ? parameters.description() : new String[0]));
            }
            for (String text : texts) {
                assertDoesNotThrow(() -> String.format(text.replace("${DEFAULT-VALUE}", "x")), c.getKey() + ": " + text);
            }
        }
        assertTrue(diffuse("--version").out().contains("diffuse"));
    }

    @Test
    void samplesToCsvPngAndGifAndEvaluates(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("s.csv");
        Run s = diffuse("sample", "--model", run.toString(), "--num", "300", "--sampler", "ddim", "--steps", "20", "--seed", "3",
                "--out", csv.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        assertEquals(20, s.json().get("model_evaluations").asInt());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("x0,x1", lines.get(0));
        assertEquals(301, lines.size());

        Path png = dir.resolve("s.png");
        Path gif = dir.resolve("t.gif");
        Run p = diffuse("sample", "--model", run.toString(), "--num", "300", "--out", png.toString(), "--trajectory", gif.toString(),
                "--forward", "--seed", "3");
        assertEquals(0, p.code(), p.err());
        assertEquals(640, ImageIO.read(png.toFile()).getWidth());
        Map<String, String> meta = PngWriter.readText(png);
        assertEquals(GenerationRequest.DEFAULT_SAMPLER, meta.get("sampler"), "the default sampler");
        assertEquals("50", meta.get("steps"), "the steps the sampler really took, not the 0 of 'its default'");
        assertEquals("3", meta.get("seed"));
        assertEquals(run.getFileName().toString(), meta.get("model"));
        assertEquals(16, meta.get("model_hash").length());
        ImageReader gifReader = ImageIO.getImageReadersByFormatName("gif").next();
        gifReader.setInput(ImageIO.createImageInputStream(gif.toFile()));
        assertTrue(gifReader.getNumImages(true) > 40, "forward and reverse frames");

        Run e = diffuse("eval", "--samples", csv.toString(), "--data", "moons", "--json");
        assertEquals(0, e.code(), e.err());
        JsonNode q = e.json();
        assertEquals(300, q.get("samples").asInt());
        assertTrue(q.get("energy_distance").asDouble() > 0 && q.get("energy_distance_floor").asDouble() > 0);
        assertTrue(e.out().contains("energy distance²"));
    }

    @Test
    void sameSeedSameSamples(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.csv");
        Path b = dir.resolve("b.csv");
        Path c = dir.resolve("c.csv");
        for (Object[] x : new Object[][] {{a, "5"}, {b, "5"}, {c, "6"}}) {
            assertEquals(0, diffuse("sample", "--model", run.toString(), "--num", "100", "--steps", "50", "--seed", (String) x[1],
                    "--out", x[0].toString()).code());
        }
        assertEquals(Files.readString(a), Files.readString(b));
        assertNotEquals(Files.readString(a), Files.readString(c));
    }

    @Test
    void likelihoodIsHigherOnTheTrainingDistribution(@TempDir Path dir) throws Exception {
        String[] common = {"--num", "60", "--trace", "rademacher", "--rtol", "1e-3", "--atol", "1e-3", "--json"};
        Run own = diffuse(concat(new String[] {"nll", "--model", run.toString(), "--data", "moons"}, common));
        assertEquals(0, own.code(), own.err());
        // the same kind of points moved 6 units away, where the model puts almost no mass
        StringBuilder far = new StringBuilder();
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 100; i++) {
            far.append(6 + r.nextGaussian() * 0.5).append(',').append(6 + r.nextGaussian() * 0.5).append('\n');
        }
        Path farCsv = Files.writeString(dir.resolve("far.csv"), far.toString());
        Run other = diffuse(concat(new String[] {"nll", "--model", run.toString(), "--data", farCsv.toString()}, common));
        assertEquals(0, other.code(), other.err());
        double a = own.json().get("nll_nats").asDouble();
        double b = other.json().get("nll_nats").asDouble();
        assertTrue(Double.isFinite(a) && a + 5 < b, "moons NLL " + a + " should be far below the shifted points' " + b);
        assertTrue(own.out().contains("bits per dimension"), own.out());
        assertUserError(diffuse("nll", "--model", run.toString(), "--data", "moons", "--trace", "psychic"), "unknown trace estimator");
    }

    @Test
    void theAnalyticOracleSamplesAndScoresWithoutTraining(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("o.csv");
        Run s = diffuse("sample", "--model", "oracle:8gaussians", "--sampler", "dpmpp_2m", "--sigma-schedule", "karras", "--steps", "20",
                "--num", "2000", "--out", csv.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        assertEquals(20, s.json().get("model_evaluations").asInt());
        Run e = diffuse("eval", "--samples", csv.toString(), "--data", "8gaussians", "--json");
        assertTrue(e.json().get("energy_distance").asDouble() < 3 * e.json().get("energy_distance_floor").asDouble(), e.out());
        // a two-component mixture file: the exact NLL of its own data is near its entropy, 2·(½·log(2πe·0.25)) ≈ 1.45 nats
        Path mixture = Files.writeString(dir.resolve("m.json"), "{\"weights\":[0.5,0.5],\"means\":[[-5,0],[5,0]],\"stds\":[0.5,0.5]}");
        Path points = dir.resolve("m.csv");
        StringBuilder b = new StringBuilder();
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 400; i++) {
            b.append((i % 2 == 0 ? -5 : 5) + 0.5 * r.nextGaussian()).append(',').append(0.5 * r.nextGaussian()).append('\n');
        }
        Files.writeString(points, b.toString());
        Run n = diffuse("nll", "--model", "oracle:" + mixture, "--data", points.toString(), "--num", "400", "--json");
        assertEquals(0, n.code(), n.err());
        double expected = Math.log(2) + Math.log(2 * Math.PI * Math.E * 0.25);
        assertEquals(expected, n.json().get("nll_nats").asDouble(), 4 * n.json().get("standard_error").asDouble() + 0.02, n.out());
        // DDPM's variational bound on the same points is an upper bound, and with β variances a tight one
        Run v = diffuse("nll", "--model", "oracle:" + mixture, "--data", points.toString(), "--num", "400", "--method", "vlb",
                "--variance", "fixed_large", "--json");
        assertEquals(0, v.code(), v.err());
        double bound = v.json().get("nll_nats").asDouble();
        assertTrue(bound > expected - 4 * v.json().get("standard_error").asDouble() && bound < expected + 0.3, v.out());
        assertEquals(1000, v.json().get("evaluations").asInt());
        assertUserError(diffuse("nll", "--model", "oracle:" + mixture, "--data", points.toString(), "--method", "elbo"), "unknown --method");
        assertUserError(diffuse("sample", "--model", "oracle:swissroll", "--out", csv.toString()), "not an exact Gaussian mixture");
    }

    /** {@code datasets --captions}: a captioned folder's captions one per line in image order; an uncaptioned set is refused. */
    @Test
    void datasetsPrintsCaptions(@TempDir Path dir) throws Exception {
        for (String name : new String[] {"a.png", "b.png"}) {
            PngWriter.write(dir.resolve(name), new java.awt.image.BufferedImage(4, 4, java.awt.image.BufferedImage.TYPE_INT_RGB), Map.of());
        }
        Files.writeString(dir.resolve("metadata.jsonl"), """
                {"file_name": "b.png", "text": "a black\\nsquare"}
                {"file_name": "a.png", "text": "another one"}
                """);
        Run r = diffuse("datasets", "--captions", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("another one", "a black square"), r.out().lines().toList(), "one caption per line, whitespace folded");
        assertUserError(diffuse("datasets", "--captions", "fashion-mnist-test"), "has no captions");
    }

    @Test
    void infoAndListings() {
        Run i = diffuse("info", run.toString(), "--json");
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("step 200 of 200"), i.out());
        assertTrue(i.json().get("parameters").asLong() > 1000);
        Run d = diffuse("datasets", "--json");
        List<String> names = new ArrayList<>();
        d.json().get("datasets").forEach(n -> names.add(n.get("name").asText()));
        assertEquals(List.of("swissroll", "moons", "8gaussians", "25gaussians", "checkerboard", "circles", "pinwheel", "spirals",
                "fashion-mnist", "fashion-mnist-test", "emoji", "emoji-google", "emoji-twitter", "emoji-test", "emoji-google-test",
                "emoji-twitter-test"), names);
        assertTrue(d.json().get("datasets").get(8).get("images").asBoolean());
        Run s = diffuse("samplers");
        assertEquals(0, s.code(), s.err());
        for (String name : new String[] {"ddpm", "ddim", "euler", "euler_ancestral", "heun", "dpm2", "dpm2_ancestral", "lms", "dpmpp_2m",
                "dpmpp_2s_ancestral", "dpmpp_2m_sde", "dpmpp_3m_sde", "pndm", "plms", "deis", "dpm_solver", "dpm_solver_singlestep", "unipc"}) {
            assertTrue(s.out().lines().anyMatch(l -> l.strip().startsWith(name + " ")), name + " listed in:\n" + s.out());
        }
        assertTrue(s.out().lines().anyMatch(l -> l.strip().matches("heun\\s+2\\s+Heun.*")), "heun's order and description:\n" + s.out());
    }

    /** Karras-family samplers on a σ schedule from the command line; the evaluation count shows the steps taken. */
    @Test
    void karrasFamilySamplers(@TempDir Path dir) {
        Run m = diffuse("sample", "--model", run.toString(), "--num", "100", "--sampler", "dpmpp_2m", "--sigma-schedule", "karras",
                "--steps", "10", "--out", dir.resolve("m.csv").toString(), "--json");
        assertEquals(0, m.code(), m.err());
        assertEquals(10, m.json().get("model_evaluations").asInt());
        Run h = diffuse("sample", "--model", run.toString(), "--num", "100", "--sampler", "heun", "--sigma-schedule", "exponential",
                "--s-churn", "5", "--steps", "10", "--out", dir.resolve("h.png").toString(), "--json");
        assertEquals(0, h.code(), h.err());
        assertEquals(19, h.json().get("model_evaluations").asInt(), "heun: two evaluations per step, one on the last");
        assertUserError(diffuse("sample", "--model", run.toString(), "--sigma-schedule", "wavy", "--out", dir.resolve("w.csv").toString()),
                "unknown sigma schedule 'wavy'");
        assertUserError(diffuse("sample", "--model", run.toString(), "--sampler", "lms", "--order", "7", "--out", dir.resolve("l.csv").toString()),
                "sampler order must be between 1 and 4");
    }

    /** The VP solvers with their order and variant flags; the evaluation count shows each one's budget. */
    @Test
    void vpSolvers(@TempDir Path dir) {
        String[][] cases = {{"pndm", "19"}, {"plms", "11"}, {"deis", "10", "--order", "2"}, {"dpm_solver", "10"},
                {"dpm_solver_singlestep", "19", "--order", "2"}, {"unipc", "10", "--order", "3", "--variant", "bh1"}};
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("sample", "--model", run.toString(), "--num", "50", "--sampler", c[0], "--steps", "10",
                    "--out", dir.resolve(c[0] + ".csv").toString(), "--json"));
            args.addAll(List.of(c).subList(2, c.length));
            Run r = diffuse(args.toArray(new String[0]));
            assertEquals(0, r.code(), c[0] + ": " + r.err());
            assertEquals(Integer.parseInt(c[1]), r.json().get("model_evaluations").asInt(), c[0] + " evaluations");
        }
        assertUserError(diffuse("sample", "--model", run.toString(), "--sampler", "deis", "--order", "4", "--out", dir.resolve("d.csv").toString()),
                "deis supports orders 1 to 3, got 4");
        assertUserError(diffuse("sample", "--model", run.toString(), "--sampler", "unipc", "--variant", "bh3", "--out", dir.resolve("u.csv").toString()),
                "unknown unipc variant 'bh3': use bh1 or bh2");
    }

    /**
     * The score-SDE, Langevin, flow and DPM-Solver samplers and their flags on the oracle; the
     * evaluation count shows the flags took effect.
     */
    @Test
    void scoreSdeFlowAndAdaptiveSamplers(@TempDir Path dir) {
        String out = dir.resolve("s.csv").toString();
        Map<String, Integer> evaluations = new LinkedHashMap<>();
        evaluations.put("pc --sde ve --snr 0.2 --corrector-steps 2 --steps 10", 10 + 9 * 2);
        evaluations.put("pc --predictor euler_maruyama --sde subvp --steps 10", 10 + 9);
        evaluations.put("sde_euler --sde ve --eta 0.5 --steps 12", 12);
        evaluations.put("annealed_langevin --steps 3 --level-steps 4 --langevin-eps 1e-6", 3 * 4 + 1);
        evaluations.put("annealed_langevin --steps 3 --level-steps 4 --no-final-denoise", 3 * 4);
        evaluations.put("flow_heun --steps 5", 4 * 2 + 1);
        evaluations.put("flow_rk4 --sigma-schedule karras --steps 3", 2 * 4 + 1);
        evaluations.put("dpm_fast --steps 10", 3 * 3 - 1 + 1);   // the 3 steps a budget of 10 pays for, then the final x̂₀
        for (var e : evaluations.entrySet()) {
            List<String> args = new ArrayList<>(List.of("sample", "--model", "oracle:8gaussians", "--num", "50", "--out", out, "--json", "--sampler"));
            args.addAll(List.of(e.getKey().split(" ")));
            Run r = diffuse(args.toArray(new String[0]));
            assertEquals(0, r.code(), e.getKey() + ": " + r.err());
            assertEquals(e.getValue(), r.json().get("model_evaluations").asInt(), e.getKey());
        }
        Run loose = diffuse("sample", "--model", "oracle:8gaussians", "--num", "50", "--out", out, "--json", "--sampler", "dpm_adaptive");
        Run tight = diffuse("sample", "--model", "oracle:8gaussians", "--num", "50", "--out", out, "--json", "--sampler", "dpm_adaptive",
                "--rtol", "1e-3", "--atol", "1e-4");
        assertEquals(0, tight.code(), tight.err());
        assertTrue(tight.json().get("model_evaluations").asInt() > loose.json().get("model_evaluations").asInt(), "tighter tolerances, more work");
        Run help = diffuse("sample", "--help");
        for (String flag : new String[] {"--sde", "--predictor", "--snr", "--corrector-steps", "--level-steps", "--langevin-eps", "--rtol", "--atol"}) {
            assertTrue(help.out().contains(flag), flag + " in --help");
        }
        Run list = diffuse("samplers");
        for (String name : new String[] {"sde_euler", "pc", "annealed_langevin", "flow_euler", "flow_midpoint", "flow_heun", "flow_rk4", "dpm_fast",
                "dpm_adaptive"}) {
            assertTrue(list.out().lines().anyMatch(l -> l.strip().startsWith(name + " ")), name + " listed in:\n" + list.out());
        }
        String[] base = {"sample", "--model", "oracle:8gaussians", "--num", "10", "--out", out};
        assertUserError(diffuse(concat(base, "--sampler", "pc", "--sde", "vx")), "unknown SDE 'vx'");
        assertUserError(diffuse(concat(base, "--sampler", "pc", "--predictor", "ancestral")), "unknown predictor 'ancestral'");
        assertUserError(diffuse(concat(base, "--sampler", "pc", "--snr", "-1")), "snr");
        assertUserError(diffuse(concat(base, "--sampler", "pc", "--corrector-steps", "-1")), "corrector steps");
        assertUserError(diffuse(concat(base, "--sampler", "annealed_langevin", "--langevin-eps", "0")), "epsilon");
        assertUserError(diffuse(concat(base, "--sampler", "annealed_langevin", "--level-steps", "-2")), "Langevin steps per level");
        assertUserError(diffuse(concat(base, "--sampler", "dpm_adaptive", "--rtol", "2")), "rtol");
        assertUserError(diffuse(concat(base, "--sampler", "dpm_adaptive", "--steps", "10")), "rtol/atol");
        assertUserError(diffuse(concat(base, "--sampler", "dpm_adaptive", "--order", "4")), "order 4");
    }

    /** A time budget (the image quickstart's) ends training at the deadline with a checkpoint of the step it reached. */
    @Test
    void aTrainingDeadlineStopsTheRunWithACheckpoint(@TempDir Path dir) {
        Trainer t = Trainer.create(dir.resolve("r"), dev.diffusion4j.train.TrainingRecipe.forVectors("moons").steps(1_000_000).build(),
                dev.diffusion4j.model.MlpConfig.defaults(2),
                dev.diffusion4j.schedule.NoiseSchedule.of(dev.diffusion4j.schedule.BetaSchedule.LINEAR, 1000));
        StringWriter out = new StringWriter();
        TrainingRun.Result r = TrainingRun.execute(t, new PrintWriter(out), true, System.nanoTime() + 500_000_000L);
        assertTrue(t.step() > 0 && t.step() < 1_000_000, "stopped at " + t.step());
        assertEquals(t.step(), CheckpointStore.step(r.checkpoint()));
        assertTrue(out.toString().contains("time budget for training ran out at step " + t.step()), out.toString());
    }

    @Test
    void serveRefusesBadSettingsInOneLine(@TempDir Path dir) throws Exception {
        assertUserError(diffuse("serve", "--port", "70000", "--models", dir.toString()), "--port");
        assertUserError(diffuse("serve", "--port", "0", "--workers", "0", "--models", dir.toString()), "--workers");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertUserError(diffuse("serve", "--port", Integer.toString(taken.getLocalPort()), "--models", dir.toString()),
                    "choose another --port");
        }
    }

    /** Each user error: exit code 2 and exactly one line on stderr starting with "error:". */
    static void assertUserError(Run r, String expectedFragment) {
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line only: " + err);
        assertTrue(err.startsWith("error: "), err);
        assertTrue(err.contains(expectedFragment), "'" + expectedFragment + "' in: " + err);
    }

    @Test
    void unknownNamesAreOneLineErrors(@TempDir Path dir) {
        assertUserError(diffuse("train", "--data", "nonsense", "--out", dir.resolve("x").toString()), "no dataset named 'nonsense'");
        assertUserError(diffuse(smallTrain(dir.resolve("y"), "moons", "--schedule", "wobbly")), "wobbly");
        assertUserError(diffuse(smallTrain(dir.resolve("z"), "moons", "--prediction", "banana")), "banana");
        assertUserError(diffuse("train", "--data", "moons", "--model", "transformer", "--out", dir.resolve("w").toString()), "unknown model");
        assertUserError(diffuse("sample", "--model", run.toString(), "--sampler", "teleport", "--out", dir.resolve("s.csv").toString()),
                "unknown sampler 'teleport'");
        assertUserError(diffuse("sample", "--model", run.toString(), "--out", dir.resolve("s.txt").toString()), ".csv or .png");
        assertUserError(diffuse("sample", "--model", dir.resolve("nothing").toString(), "--out", dir.resolve("s.csv").toString()),
                "does not exist");
        assertUserError(diffuse("sample", "--model", dir.toString(), "--out", dir.resolve("s.csv").toString()), "holds no checkpoint");
        assertUserError(diffuse("sample", "--model", run.toString(), "--steps", "5000", "--sampler", "ddim",
                "--out", dir.resolve("s.csv").toString()), "between 1 and the model's 100");
        assertUserError(diffuse("sample", "--model", run.toString(), "--bogus-flag", "--out", "x.csv"), "bogus");
    }

    @Test
    void conditionalTrainingAndGuidedSampling(@TempDir Path dir) throws Exception {
        Path cond = dir.resolve("cond");
        Run t = diffuse(smallTrain(cond, "8gaussians", "--conditional", "--cond-dropout", "0.2"));
        assertEquals(0, t.code(), t.err());
        Map<?, ?> model = (Map<?, ?>) dev.diffusion4j.io.Checkpoint.readConfig(
                dev.diffusion4j.io.CheckpointStore.latest(cond).orElseThrow()).get("model");
        assertEquals(8, ((Number) model.get("num_classes")).intValue());
        Path csv = dir.resolve("k2.csv");
        Run s = diffuse("sample", "--model", cond.toString(), "--class", "2", "--guidance", "4", "--negative", "6",
                "--guidance-interval", "0.1,20", "--cfg-rescale", "0.5", "--sampler", "euler", "--steps", "20", "--num", "50",
                "--out", csv.toString(), "--json");
        assertEquals(0, s.code(), s.err());
        assertEquals(51, Files.readAllLines(csv).size());
        Path byName = dir.resolve("k2-by-name.csv");
        Run named = diffuse("sample", "--model", cond.toString(), "--class", "Component 2", "--guidance", "4", "--negative", "component 6",
                "--guidance-interval", "0.1,20", "--cfg-rescale", "0.5", "--sampler", "euler", "--steps", "20", "--num", "50",
                "--out", byName.toString());
        assertEquals(0, named.code(), named.err());
        assertEquals(Files.readAllLines(csv), Files.readAllLines(byName), "a class name selects the same label as its index");
        String out = dir.resolve("s.csv").toString();
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "8", "--out", out), "unknown class '8'");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "triangle", "--out", out), "component 7");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "1", "--negative", "9", "--out", out),
                "unknown negative '9'");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--guidance", "2", "--out", out), "give a class or a prompt");
        assertUserError(diffuse("sample", "--model", "oracle:8gaussians", "--classifier-scale", "2", "--out", out), "give a class or a prompt");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "1", "--guidance", "-1", "--out", out), "guidance must be a number ≥ 0");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "1", "--threshold", "dynamic", "--out", out),
                "image models");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--threshold", "fancy", "--out", out), "unknown threshold 'fancy'");
        assertUserError(diffuse("sample", "--model", run.toString(), "--class", "1", "--out", out), "not class-conditional");
        assertUserError(diffuse(smallTrain(dir.resolve("moons"), "moons", "--conditional")), "has none");
        assertFalse(Files.exists(dir.resolve("s.csv")), "nothing written on errors");

        // Any integer column of a CSV file as the class: kind 5 sits at x = −3, kind 9 at x = +3.
        Path table = dir.resolve("labelled.csv");
        StringBuilder csvText = new StringBuilder("x,kind,y\n");
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 400; i++) {
            int kind = i % 2 == 0 ? 5 : 9;
            csvText.append(String.format(java.util.Locale.ROOT, "%.4f,%d,%.4f%n", (kind == 5 ? -3 : 3) + 0.3 * r.nextGaussian(), kind,
                    0.3 * r.nextGaussian()));
        }
        Files.writeString(table, csvText.toString());
        Path csvRun = dir.resolve("csv-cond");
        Run labelled = diffuse(smallTrain(csvRun, table.toString(), "--conditional", "--label-column", "kind"));
        assertEquals(0, labelled.code(), labelled.err());
        Path nines = dir.resolve("nines.csv");
        Run nine = diffuse("sample", "--model", csvRun.toString(), "--class", "9", "--guidance", "3", "--num", "200", "--out",
                nines.toString());
        assertEquals(0, nine.code(), nine.err());
        List<String> nineLines = Files.readAllLines(nines);
        assertEquals("x,y", nineLines.get(0), "the label column is not a data column");
        long right = nineLines.subList(1, nineLines.size()).stream().filter(l -> Double.parseDouble(l.split(",")[0]) > 0).count();
        assertTrue(right >= 180, "class '9' (value 9, index 1) lands at x = +3: " + right + " of 200");
        assertUserError(diffuse(smallTrain(dir.resolve("csv2"), table.toString(), "--label-column", "kind")), "add --conditional");
        assertUserError(diffuse(smallTrain(dir.resolve("csv3"), table.toString(), "--conditional", "--label-column", "x")),
                "must be integers");

        // The analytic oracle has an exact noisy classifier: classifier guidance with s = 1 samples component 2 exactly.
        Path exact = dir.resolve("oracle-k2.csv");
        Run oracle = diffuse("sample", "--model", "oracle:8gaussians", "--class", "2", "--classifier-scale", "1", "--sampler", "heun",
                "--steps", "30", "--num", "1000", "--out", exact.toString());
        assertEquals(0, oracle.code(), oracle.err());
        double sx = 0;
        double sy = 0;
        List<String> lines = Files.readAllLines(exact);
        for (String line : lines.subList(1, lines.size())) {
            String[] v = line.split(",");
            sx += Double.parseDouble(v[0]);
            sy += Double.parseDouble(v[1]);
        }
        assertEquals(0.0, sx / 1000, 0.03, "component 2 sits at (0, 2)");
        assertEquals(2.0, sy / 1000, 0.03, "component 2 sits at (0, 2)");
        assertUserError(diffuse("sample", "--model", cond.toString(), "--class", "1", "--classifier-scale", "1", "--out", out),
                "classifier of noisy samples");
        assertUserError(diffuse("sample", "--model", "oracle:8gaussians", "--class", "1", "--classifier-scale", "1", "--guidance", "2",
                "--out", out), "choose one");

        Path plot = dir.resolve("sweep.png");
        Run sweep = diffuse("guidance-sweep", "--model", cond.toString(), "--weights", "0,3", "--num", "40", "--steps", "10",
                "--cost-batches", "8", "--out", plot.toString(), "--json");
        assertEquals(0, sweep.code(), sweep.err());
        JsonNode rows = sweep.json().get("weights");
        assertEquals(2, rows.size());
        for (JsonNode row : rows) {
            double share = row.get("in_component").asDouble();
            assertTrue(share >= 0 && share <= 1 && row.get("within_3_std").asDouble() <= share, row.toString());
        }
        assertTrue(sweep.json().get("guided_step_cost_ratio_by_batch").get("8").asDouble() > 0);
        assertTrue(Files.size(plot) > 0);
        assertUserError(diffuse("guidance-sweep", "--model", run.toString()), "is not conditional");
    }

    @Test
    void badCsvDataIsAOneLineError(@TempDir Path dir) throws Exception {
        Path ragged = dir.resolve("ragged.csv");
        Files.writeString(ragged, "a,b\n1,2\n3,4\n5\n");
        assertUserError(diffuse(smallTrain(dir.resolve("r"), ragged.toString())), "line 4 has 1 values, expected 2");
        Path nan = dir.resolve("nan.csv");
        Files.writeString(nan, "1,2\n3,NaN\n");
        assertUserError(diffuse(smallTrain(dir.resolve("n"), nan.toString())), "line 2");
        Path samples = dir.resolve("s.csv");
        Files.writeString(samples, "1,2,3\n4,5,6\n");
        assertUserError(diffuse("eval", "--samples", samples.toString(), "--data", "moons"), "2 dimensions");
    }

    @Test
    void trainsOnAThreeColumnCsvAndSamplesInItsUnits(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("points.csv");
        StringBuilder sb = new StringBuilder("height,weight,age\n");
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 500; i++) {
            sb.append(170 + 10 * r.nextGaussian()).append(',').append(70 + 5 * r.nextGaussian()).append(',').append(40 + 12 * r.nextGaussian()).append('\n');
        }
        Files.writeString(csv, sb.toString());
        Path out = dir.resolve("run");
        assertEquals(0, diffuse(smallTrain(out, csv.toString())).code());
        Path samples = dir.resolve("gen.csv");
        Run s = diffuse("sample", "--model", out.toString(), "--num", "400", "--steps", "50", "--sampler", "ddim", "--out", samples.toString());
        assertEquals(0, s.code(), s.err());
        List<String> lines = Files.readAllLines(samples);
        assertEquals("height,weight,age", lines.get(0), "the training CSV's header is kept");
        double meanHeight = lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[0])).average().orElseThrow();
        assertEquals(170, meanHeight, 6, "samples come back in data units, not normalised ones");
    }

    @Test
    void corruptOrTruncatedCheckpointsAreDetectedAndNothingIsWritten(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("copy");
        copyTree(run, copy);
        Path ckpt = CheckpointStore.latest(copy).orElseThrow();
        Path weights = ckpt.resolve(dev.diffusion4j.io.Checkpoint.EMA_FILE);
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(f.length() - 5);
            int b = f.read();
            f.seek(f.length() - 5);
            f.write(b ^ 0xFF);
        }
        Path out = dir.resolve("out.csv");
        assertUserError(diffuse("sample", "--model", copy.toString(), "--out", out.toString()), "corrupt");
        assertFalse(Files.exists(out), "no output after an error");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        assertUserError(diffuse("sample", "--model", copy.toString(), "--out", out.toString()), "truncated");
        assertUserError(diffuse("train", "--out", copy.toString(), "--resume"), "truncated");
        assertFalse(Files.exists(out));
    }

    @Test
    void unwritableOutputsAreOneLineErrorsAndLeaveNoTemporaryFiles(@TempDir Path dir) throws Exception {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "not a directory");
        assertUserError(diffuse(smallTrain(blocker.resolve("run"), "moons")), "file");
        assertUserError(diffuse("sample", "--model", run.toString(), "--num", "10", "--steps", "5", "--sampler", "ddim",
                "--out", blocker.resolve("s.csv").toString()), "could not write");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(blocker), files.toList(), "no temporary files left behind");
        }
    }

    @Test
    void trainingTwiceIntoOneDirectoryAsksForResume(@TempDir Path dir) {
        Path out = dir.resolve("r");
        assertEquals(0, diffuse(smallTrain(out, "moons")).code());
        assertUserError(diffuse(smallTrain(out, "moons")), "--resume");
        // a setting the resumed run would not apply is refused, not silently ignored
        assertUserError(diffuse("train", "--out", out.toString(), "--resume", "--lr", "0.1", "--ema", "0.9"), "drop --lr, --ema");
        Run more = diffuse("train", "--out", out.toString(), "--resume", "--steps", "300", "--json");
        assertEquals(0, more.code(), more.err());
        assertEquals(300, more.json().get("steps").asInt());
    }

    /** A training process killed mid-run and resumed ends with the weights of an uninterrupted run. */
    @Test
    void killedTrainingResumesToTheSameWeights(@TempDir Path dir) throws Exception {
        Path straight = dir.resolve("straight");
        Path killed = dir.resolve("killed");
        String[] args = {"train", "--data", "spirals", "--steps", "1500", "--hidden", "32", "--blocks", "1", "--timesteps", "100",
                "--checkpoint-every", "100", "--seed", "4"};
        assertEquals(0, diffuse(concat(args, "--out", straight.toString())).code());

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Diffuse.class.getName()));
        cmd.addAll(List.of(concat(args, "--out", killed.toString())));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (CheckpointStore.latest(killed).map(CheckpointStore::step).orElse(0L) < 300) {
            assertTrue(p.isAlive(), "child exited early: " + Files.readString(dir.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "no checkpoint within 120 s");
            Thread.sleep(20);
        }
        p.destroyForcibly().waitFor();
        long at = CheckpointStore.step(CheckpointStore.latest(killed).orElseThrow());
        assertTrue(at < 1500, "killed before the end (last checkpoint " + at + ")");

        Run resumed = diffuse("train", "--out", killed.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        try (Scope s = Scope.open();
             SafetensorsFile a = Safetensors.open(CheckpointStore.latest(straight).orElseThrow().resolve(dev.diffusion4j.io.Checkpoint.EMA_FILE));
             SafetensorsFile b = Safetensors.open(CheckpointStore.latest(killed).orElseThrow().resolve(dev.diffusion4j.io.Checkpoint.EMA_FILE))) {
            Map<String, Tensor> wa = a.readAll();
            Map<String, Tensor> wb = b.readAll();
            for (String k : wa.keySet()) {
                assertTrue(wa.get(k).equal(wb.get(k)), "weight " + k + " differs");
            }
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
