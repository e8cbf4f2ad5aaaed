package dev.verge.netlab;

import java.util.List;

/** The outcome of one finished command. */
public record ExecResult(List<String> command, int exitCode, String stdout, String stderr) {

  public ExecResult {
    command = List.copyOf(command);
  }

  public boolean ok() {
    return exitCode == 0;
  }

  /** Returns this result, or throws naming the command and its stderr when it failed. */
  public ExecResult requireOk() {
    if (!ok()) {
      throw new CommandFailedException(this);
    }
    return this;
  }

  /** Thrown when a command that had to succeed did not. */
  public static final class CommandFailedException extends RuntimeException {
    private final transient ExecResult result;

    CommandFailedException(ExecResult result) {
      super(
          "command failed (exit "
              + result.exitCode()
              + "): "
              + String.join(" ", result.command())
              + (result.stderr().isBlank() ? "" : "\n" + result.stderr().strip()));
      this.result = result;
    }

    public ExecResult result() {
      return result;
    }
  }
}
