package dev.verge.cli;

import dev.verge.controller.OperatorCertificates;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code verge controller issue-operator-cert}: a client certificate for the remote admin API. */
@Command(name = "issue-operator-cert", mixinStandardHelpOptions = true,
    description = {"Issue an operator client certificate and key from the controller CA in DATA_DIR, for the admin API",
        "the controller serves with --admin-listen. Needs read access to DATA_DIR/pki (its owner); the controller may be running."})
final class ControllerIssueOperatorCertCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:VERGE_CONTROLLER_DATA}",
      description = "The controller's data directory (default: $VERGE_CONTROLLER_DATA).")
  Path dataDir;

  @Option(names = "--name", required = true, paramLabel = "NAME", description = "The operator's name (the certificate's CN).")
  String name;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write NAME.crt, NAME.key and ca.crt.")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (dataDir == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "name the controller's data directory: --data-dir DIR");
    }
    OperatorCertificates.Issued issued;
    try {
      issued = OperatorCertificates.issue(dataDir, name, out);
    } catch (IllegalArgumentException e) {
      throw new RuntimeErrors.UsageProblem(e.getMessage());
    }
    PrintWriter text = spec.commandLine().getOut();
    text.printf("issued operator certificate CN=%s (sha256 %s)%n", name, issued.fingerprint());
    text.printf("  certificate: %s%n  key:         %s (owner-only; keep it secret)%n  controller CA: %s%n",
        issued.certificate(), issued.key(), issued.ca());
    text.printf("use: verge controller devices --admin HOST:PORT --operator-cert %s --operator-key %s --ca %s%n",
        issued.certificate(), issued.key(), issued.ca());
    text.flush();
    return 0;
  }
}
