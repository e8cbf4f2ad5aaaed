package dev.verge.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code verge} command. */
@Command(
    name = "verge",
    mixinStandardHelpOptions = true,
    versionProvider = VergeCommand.Version.class,
    description = "Verge: an edge-node network suite (controller, nim, zedrouter, domainmgr).",
    footer = {"", "Also: ./verge test (every test), ./verge bench [group...] (benchmarks; kept out of this jar)."})
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
    System.exit(commandLineFor(args).execute(args));
  }

  /** The subcommands, in the order help lists them. */
  private static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

  private static Map<String, Class<?>> subcommands() {
    Map<String, Class<?>> commands = new LinkedHashMap<>();
    commands.put("node", NodeCommand.class);
    commands.put("demo", DemoCommand.class);
    commands.put("controller", ControllerCommand.class);
    commands.put("help", CommandLine.HelpCommand.class);
    return Collections.unmodifiableMap(commands);
  }

  /**
   * The command tree for these arguments: only the subcommand they run when they name one (help
   * aside), else all. picocli reflects on every command class of the tree it builds, and the
   * controller's and the demo's commands pull gRPC, Jackson and protobuf classes into the JVM:
   * in a node's start that is class loading before any agent runs (./verge bench node).
   */
  static CommandLine commandLineFor(String[] args) {
    return firstCommandOf(args)
        .filter(name -> SUBCOMMANDS.containsKey(name) && !name.equals("help"))
        .map(name -> commandLine(List.of(name)))
        .orElseGet(VergeCommand::commandLine);
  }

  /** The first argument that is not a root option (nor the value of one). */
  static Optional<String> firstCommandOf(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--log-format")) {
        i++; // its value
      } else if (!args[i].startsWith("-")) {
        return Optional.of(args[i]);
      }
    }
    return Optional.empty();
  }

  /** {@link LogSetup} reads it (a system property wins over the environment variable of the same name). */
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

  /** The whole command tree. */
  static CommandLine commandLine() {
    return commandLine(SUBCOMMANDS.keySet());
  }

  private static CommandLine commandLine(Collection<String> subcommands) {
    CommandLine root = new CommandLine(new VergeCommand());
    subcommands.forEach(name -> root.addSubcommand(name, SUBCOMMANDS.get(name)));
    return root
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
