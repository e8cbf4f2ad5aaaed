package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Faults to inject into a {@link SimKernel}: "the 3rd link creation from now fails with ENOMEM".
 * A failing call changes nothing, as a refused kernel call changes nothing.
 */
public final class SimFaults {
  private final Map<SimOperation, Integer> calls = new EnumMap<>(SimOperation.class);
  private final Map<SimOperation, Map<Integer, Errno>> planned = new EnumMap<>(SimOperation.class);

  /** Makes the {@code nth} call (1 = the next one) of {@code operation} from now fail. */
  public synchronized SimFaults failNth(SimOperation operation, int nth, Errno errno) {
    if (nth < 1) {
      throw new IllegalArgumentException("nth counts from 1, not " + nth);
    }
    int done = calls.getOrDefault(operation, 0);
    planned.computeIfAbsent(operation, o -> new HashMap<>()).put(done + nth, errno);
    return this;
  }

  /** Counts a call; throws the planned fault if this is the call it was planned for. */
  synchronized void onCall(SimOperation operation, String description, String object) {
    int number = calls.merge(operation, 1, Integer::sum);
    Map<Integer, Errno> faults = planned.get(operation);
    Errno errno = faults == null ? null : faults.remove(number);
    if (errno != null) {
      throw new HostException(description, object, errno, "injected fault: " + errno.description());
    }
  }
}
