package dev.diffusion4j.cli;

import dev.diffusion4j.DiffusionException;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/** What a training command does with the options given alongside --resume. */
final class ResumeOptions {
    private ResumeOptions() {
    }

    /**
     * Refuses every option given on {@code spec}'s command line that a resumed run does not read
     * ({@code read} holds their long names), naming them all: a setting that would be silently
     * ignored is an error. Options added to a command later are refused until it reads them.
     */
    static void refuseUnread(CommandLine.Model.CommandSpec spec, Set<String> read, String keeps) {
        List<String> unread = spec.commandLine().getParseResult().matchedOptions().stream()
                .map(CommandLine.Model.OptionSpec::longestName).filter(name -> !read.contains(name)).distinct().toList();
        if (!unread.isEmpty()) {
            throw new DiffusionException("--resume " + keeps + "; drop " + String.join(", ", unread));
        }
    }
}
