package dev.verge.controller;

import java.io.IOException;
import java.nio.file.Path;

/** Another controller holds the data directory: two writers would overwrite each other's history. */
public final class DataDirInUseException extends IOException {
  public DataDirInUseException(Path dataDir, String holder) {
    super("data directory " + dataDir + " is in use by another controller" + (holder.isBlank() ? "" : " (" + holder + ")")
        + "; stop it or choose another --data-dir");
  }
}
