package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code diffuse} command: train, sample, evaluate and inspect diffusion models. */
@Command(name = "diffuse",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Train diffusion models on your data and generate from them, on libtorch, from Java.",
        subcommands = {
                QuickstartCommand.class,
                TrainCommand.class,
                SampleCommand.class,
                GuidanceSweepCommand.class,
                EvalCommand.class,
                TrainClassifierCommand.class,
                TrainVaeCommand.class,
                TrainClipCommand.class,
                NllCommand.class,
                InfoCommand.class,
                DatasetsCommand.class,
                SamplersCommand.class,
                BenchCommand.class,
                BenchSamplersCommand.class,
                BenchImagesCommand.class,
                BenchVaeCommand.class,
                BenchLatentCommand.class,
                ServeCommand.class,
                CommandLine.HelpCommand.class
        },
        footer = {"", "Run 'diffuse COMMAND --help' for the options of a command."})
public final class Diffuse implements Runnable {
    /** Exit code for errors the user can fix (bad option, bad file, unknown name). */
    public static final int USER_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI on the standard streams and returns its exit code. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the CLI with the given output and error writers (used by tests) and returns its exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        configureLogging();
        CommandLine cmd = new CommandLine(new Diffuse());
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExecutionExceptionHandler(Diffuse::handle);
        cmd.setParameterExceptionHandler(Diffuse::handleParameter);
        int code = cmd.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        if (e instanceof DiffusionException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return USER_ERROR;
        }
        err.println("internal error: " + e);
        e.printStackTrace(err);
        err.flush();
        return 1;
    }

    /** A bad option or value: one line naming it and where the help is, instead of the whole usage text. */
    private static int handleParameter(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + e.getMessage() + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return USER_ERROR;
    }

    private static void configureLogging() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // JavaCPP warns on every start that the OpenBLAS natives come from the presets release before
        // its own (the newer one is not published; the pom says why and the test suite proves the pair).
        // JavaCPP's own logger writes to stderr unconditionally; routed through SLF4J, the level below applies.
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
        if (System.getProperty("org.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader", "error");
        }
        System.setProperty("java.awt.headless", "true");
    }
}
