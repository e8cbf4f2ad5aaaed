package dev.verge.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code verge} command. */
@Command(
    name = "verge",
    mixinStandardHelpOptions = true,
    versionProvider = VergeCommand.Version.class,
    description = "Verge: an edge-node network suite (controller, nim, zedrouter, domainmgr).",
    footer = {"", "Also: ./verge test (every test), ./verge bench [group...] (benchmarks; kept out of this jar)."},
    subcommands = {NodeCommand.class, DemoCommand.class, ControllerCommand.class, CommandLine.HelpCommand.class})
public final class VergeCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Read by {@link #main} before anything logs (logging is configured once, at the first logger). */
  @CommandLine.Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
      description = "Log lines on stderr as text or as JSON lines with agent, item, operation and error fields "
          + "(default ${DEFAULT-VALUE}; also VERGE_LOG_FORMAT).")
  LogFormat logFormat;

  enum LogFormat { text, json }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    logFormatOf(args).ifPresent(format -> System.setProperty(LOG_FORMAT_PROPERTY, format));
    System.exit(commandLine().execute(args));
  }

  /** logback.xml reads it (a system property wins over the environment variable of the same name). */
  static final String LOG_FORMAT_PROPERTY = "VERGE_LOG_FORMAT";

  /** The root option's value, if given and valid (picocli reports an invalid one). */
  static java.util.Optional<String> logFormatOf(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String value = args[i].startsWith("--log-format=") ? args[i].substring("--log-format=".length())
          : args[i].equals("--log-format") && i + 1 < args.length ? args[i + 1] : null;
      if (value != null && (value.equals("text") || value.equals("json"))) {
        return java.util.Optional.of(value);
      }
      if (!args[i].startsWith("-")) {
        return java.util.Optional.empty(); // a subcommand: root options come before it
      }
    }
    return java.util.Optional.empty();
  }

  static CommandLine commandLine() {
    return new CommandLine(new VergeCommand())
        .setParameterExceptionHandler(VergeCommand::usageError)
        .setExecutionExceptionHandler(VergeCommand::runtimeError);
  }

  /** Exit 2 with one line: what was wrong and where the usage is, not the whole usage text. */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    command.getErr().println("error: " + e.getMessage() + " (see '" + command.getCommandSpec().qualifiedName() + " --help')");
    command.getErr().flush();
    return 2;
  }

  /** Exit 1 with one line naming the cause, not a stack trace. */
  private static int runtimeError(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    if (e instanceof RuntimeErrors.UsageProblem) {
      return usageError(new CommandLine.ParameterException(command, e.getMessage()), new String[0]);
    }
    command.getErr().println("error: " + RuntimeErrors.describe(e));
    command.getErr().flush();
    return 1;
  }

  /** Reads the version stamped into the jar at build time. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties props = new Properties();
      try (InputStream in = VergeCommand.class.getResourceAsStream("/verge-version.properties")) {
        if (in != null) {
          props.load(in);
        }
      }
      return new String[] {
        "verge " + props.getProperty("version", "unknown"),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
      };
    }
  }
}
