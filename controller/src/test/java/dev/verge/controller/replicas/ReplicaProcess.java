package dev.verge.controller.replicas;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.controller.store.StoreLocation;
import java.nio.file.Path;

/**
 * A controller replica as a process of its own (so a test can kill -9 it): serves on free loopback
 * ports with the PostgreSQL store, prints {@code replica device=N admin=N metrics=N} and runs until killed.
 */
public final class ReplicaProcess {
  private ReplicaProcess() {}

  /** Arguments: data directory, store URI. */
  public static void main(String[] args) throws Exception {
    ControllerServer server = ControllerServer.start(ControllerSettings.ephemeral(Path.of(args[0]))
        .withStore(StoreLocation.parse(args[1])));
    System.out.println("replica device=" + server.devicePort() + " admin=" + server.adminPort() + " metrics=" + server.metricsPort());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
