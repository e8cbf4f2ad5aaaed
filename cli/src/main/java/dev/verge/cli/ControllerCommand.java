package dev.verge.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code verge controller ...}: run the reference controller and talk to its admin API. */
@Command(
    name = "controller",
    mixinStandardHelpOptions = true,
    description = "Run the controller and manage devices through its admin API.",
    subcommands = {
      ControllerServeCommand.class,
      ControllerOnboardCommand.class,
      ControllerApplyCommand.class,
      ControllerGetCommand.class,
      ControllerDevicesCommand.class,
      ControllerIssueOperatorCertCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:runtime error (controller unreachable, request refused, invalid config)",
      "2:usage error (bad options or arguments)"
    })
final class ControllerCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
