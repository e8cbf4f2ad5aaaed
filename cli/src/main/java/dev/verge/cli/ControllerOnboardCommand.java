package dev.verge.cli;

import dev.verge.proto.controller.v1.ListOnboardingRequest;
import dev.verge.proto.controller.v1.OnboardingList;
import dev.verge.proto.controller.v1.OnboardingRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verge controller onboard}: manage the serials allowed to onboard. */
@Command(name = "onboard", mixinStandardHelpOptions = true,
    description = "Allow device serials to onboard (or --remove them); with no serial, list the allowed ones.")
final class ControllerOnboardCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin AdminOptions admin;

  @Option(names = "--remove", description = "Remove the serials from the onboarding list instead.")
  boolean remove;

  @Parameters(arity = "0..*", paramLabel = "SERIAL", description = "Device serial numbers.")
  List<String> serials = new ArrayList<>();

  @Override
  public Integer call() {
    if (remove && serials.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--remove needs at least one SERIAL");
    }
    OnboardingRequest request = OnboardingRequest.newBuilder().addAllSerials(serials).build();
    return admin.call(spec, stub -> serials.isEmpty() ? stub.listOnboarding(ListOnboardingRequest.getDefaultInstance())
        : remove ? stub.removeOnboarding(request) : stub.addOnboarding(request), ControllerOnboardCommand::text);
  }

  private static String text(OnboardingList list) {
    return list.getSerialsCount() == 0 ? "(no serials allowed to onboard)" : String.join("\n", list.getSerialsList());
  }
}
