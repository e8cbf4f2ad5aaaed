package dev.verge.netlab;

/** Whether this JVM runs with the privileges the real data plane needs. */
public final class Root {
  private Root() {}

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name")) || uid() == 0;
  }

  private static long uid() {
    try {
      Object uid = java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid");
      return ((Number) uid).longValue();
    } catch (Exception e) {
      return -1;
    }
  }
}
