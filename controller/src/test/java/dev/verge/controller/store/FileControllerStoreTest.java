package dev.verge.controller.store;

import dev.verge.controller.internal.DeviceStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on the embedded file store (the default). */
class FileControllerStoreTest extends ControllerStoreContract {
  @TempDir Path dataDir;

  @Override
  protected ControllerStore create() throws Exception {
    return new DeviceStore(dataDir, clock);
  }
}
