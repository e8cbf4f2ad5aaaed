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

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
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
