package dev.verge.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code verge demo}: the whole product on one machine. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run a controller and an edge node in throw-away namespaces and show them at work.")
final class DemoCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    // The demo needs the agents (nim, zedrouter, domainmgr) and the controller; until those land
    // there is nothing honest to show, so say so instead of faking it.
    System.out.println(
        "verge demo: not yet available — it arrives with the controller and the agents. "
            + "Try `./verge bench` or `./verge test` meanwhile.");
    return 0;
  }
}
