package dev.verge.nim;

import dev.verge.nim.Verifier.Entry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * EVE's rules for the order of the port-config list and for what is dropped from it (pure).
 *
 * <p>Order is decided when a config arrives, not by sorting: a config arriving from the controller
 * or a console operator ({@link PortConfig#MANUAL}) goes first (the newest intent of either wins,
 * whatever the timestamps say; an override file stamped in the future does not keep a new
 * controller config from being tried); other configs go by time priority, newer first; the last
 * resort is always last. A config whose content changes arrives again (its older content stays
 * behind it as a fallback until the new one has worked).
 */
public final class PortConfigList {
  private PortConfigList() {}

  /** Where a config that just arrived goes in {@code list} (best first). */
  public static int insertionIndex(List<Entry> list, PortConfig arriving) {
    String key = arriving.key();
    if (key.equals(PortConfig.CONTROLLER) || key.equals(PortConfig.MANUAL)) {
      return 0;
    }
    if (key.equals(PortConfig.LAST_RESORT)) {
      return list.size();
    }
    for (int i = 0; i < list.size(); i++) {
      PortConfig other = list.get(i).config();
      if (other.key().equals(PortConfig.LAST_RESORT) || other.timePriorityMs() < arriving.timePriorityMs()) {
        return i;
      }
    }
    return list.size();
  }

  /**
   * Which entries stay once the config at {@code current} works (EVE's compression, run only then,
   * never during a verification): the first entry, the one in use, the newest that worked, the
   * newest content of each source, and the last resort. Dropped: older contents of a source that
   * never worked or that a newer working one made useless, and a console operator's config once a
   * config ranked before it has worked (it was a stop-gap).
   *
   * @return the indexes to keep, ascending
   */
  public static List<Integer> keepAfterSuccess(List<Entry> list, int current) {
    List<Integer> keep = new ArrayList<>();
    Set<String> keysSeen = new HashSet<>();
    boolean newestWorkingSeen = false;
    boolean workedBeforeThis = false;
    for (int i = 0; i < list.size(); i++) {
      Entry entry = list.get(i);
      String key = entry.config().key();
      boolean newestOfKey = keysSeen.add(key);
      boolean newestWorking = !newestWorkingSeen && entry.workedBefore();
      boolean manualOutranked = key.equals(PortConfig.MANUAL) && workedBeforeThis;
      boolean kept = i == 0 || i == current || newestWorking || key.equals(PortConfig.LAST_RESORT)
          || (newestOfKey && !manualOutranked);
      if (kept) {
        keep.add(i);
      }
      newestWorkingSeen |= entry.workedBefore();
      workedBeforeThis |= entry.workedBefore();
    }
    return keep;
  }

  /**
   * Where a failed verification goes next: the next testable entry after {@code current},
   * wrapping around, but never past a console operator's config (EVE: a device a person set up on
   * site is not moved to a config behind it, such as the last resort).
   */
  public static int searchLimit(List<Entry> list) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).config().key().equals(PortConfig.MANUAL)) {
        return i;
      }
    }
    return list.size() - 1;
  }
}
