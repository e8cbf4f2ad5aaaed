package dev.verge.hostos.linux;

import java.io.IOException;
import java.nio.file.Path;

/** How {@link LinuxSysfs} writes an attribute; the kernel reacts to writes, a fake tree must too. */
@FunctionalInterface
public interface SysfsWriter {
  void write(Path attribute, String value) throws IOException;
}
