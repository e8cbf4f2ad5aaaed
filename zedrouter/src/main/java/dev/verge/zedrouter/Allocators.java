package dev.verge.zedrouter;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The numbers zedrouter hands out, persisted under its state directory: bridge numbers per NI
 * (1..255, one byte of EVE's bridge MAC), app numbers per app (1..65535, wider than EVE's 8 bits)
 * and, per NI, VIF numbers (the offset of a dynamic VIF address in the DHCP range).
 */
public final class Allocators {
  public static final int MAX_BRIDGES = 255;
  public static final int MAX_APPS = 65535;

  private final Path dir;
  private final NumberAllocator bridges;
  private final NumberAllocator apps;
  private final Map<String, NumberAllocator> vifs = new HashMap<>();

  public Allocators(Path dir) {
    this.dir = dir;
    this.bridges = new NumberAllocator(dir.resolve("bridges"), "bridge numbers", 1, MAX_BRIDGES);
    this.apps = new NumberAllocator(dir.resolve("apps"), "app numbers", 1, MAX_APPS);
  }

  public int bridgeNumber(String niUuid) {
    return bridges.allocate(niUuid);
  }

  public int appNumber(String appUuid) {
    return apps.allocate(appUuid);
  }

  /** The VIF's number on its NI, 0 first, below {@code limit}. */
  public int vifNumber(String niUuid, String vifKey, int limit) {
    return vifs.computeIfAbsent(niUuid, n -> new NumberAllocator(dir.resolve("vifs-" + n), "VIF numbers of NI " + n,
        0, Math.max(0, limit - 1))).allocate(vifKey);
  }

  /** Frees the numbers of NIs and apps that are gone. */
  public void retain(Set<String> niUuids, Set<String> appUuids, Map<String, Set<String>> vifKeysByNi) {
    bridges.retainOnly(niUuids);
    apps.retainOnly(appUuids);
    vifs.forEach((ni, allocator) -> allocator.retainOnly(vifKeysByNi.getOrDefault(ni, Set.of())));
  }
}
