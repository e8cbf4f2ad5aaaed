package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named sim network namespaces, as {@code /run/netns} names the kernel's: one {@link SimKernel} per
 * name, between which links can move ({@link SimKernel#moveToNamespace}) and veth pairs can span.
 * All kernels of one registry share one lock, so an operation that touches two of them (a move, a
 * veth whose peer is elsewhere) is atomic and announces its events in both.
 */
public final class SimNamespaces {
  final Object lock = new Object();
  private final Map<String, SimKernel> kernels = new LinkedHashMap<>();
  private long nextMac = 1;

  /** Creates a namespace ({@code ip netns add NAME}); a taken name is refused with EEXIST. */
  public SimKernel create(String name) {
    if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
      throw new HostException("create namespace", "'" + name + "'", Errno.EINVAL, "not a valid namespace name");
    }
    synchronized (lock) {
      if (kernels.containsKey(name)) {
        throw new HostException("create namespace", name, Errno.EEXIST, Errno.EEXIST.description());
      }
      SimKernel kernel = new SimKernel(this, name);
      kernels.put(name, kernel);
      return kernel;
    }
  }

  /** The namespace of that name, if it exists. */
  public Optional<SimKernel> find(String name) {
    synchronized (lock) {
      return Optional.ofNullable(kernels.get(name));
    }
  }

  /** The namespace of that name; ENOENT if there is none (as opening /run/netns/NAME fails). */
  public SimKernel get(String name) {
    return find(name).orElseThrow(
        () -> new HostException("open namespace", name, Errno.ENOENT, "no namespace named " + name));
  }

  public List<String> names() {
    synchronized (lock) {
      return List.copyOf(kernels.keySet());
    }
  }

  /** Registers a kernel made on its own ({@code new SimKernel()}) as the only one. */
  void adopt(SimKernel kernel) {
    synchronized (lock) {
      kernels.put(kernel.namespaceName(), kernel);
    }
  }

  /** MAC addresses are unique across the registry, as links may move between its namespaces. */
  long nextMac() {
    return nextMac++;
  }

  /** Every kernel, for computing the events of a change that may reach into several. */
  List<SimKernel> all() {
    return new ArrayList<>(kernels.values());
  }
}
