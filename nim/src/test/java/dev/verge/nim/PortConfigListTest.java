package dev.verge.nim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.IpPrefix;
import dev.verge.nim.Verifier.Entry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** EVE's list rules, pure: where an arriving config goes, what compression keeps, where fallback stops. */
class PortConfigListTest {
  static PortConfig config(String key, long priority, String address) {
    Port port = new Port("wan0", "eth0", Port.Kind.ETHERNET, Optional.empty(), Optional.empty(), Optional.empty(),
        Port.Usage.MANAGEMENT, 0, new Port.Addressing.Static(IpPrefix.parse(address + "/24"), Optional.empty()),
        List.of(), 0, false);
    return new PortConfig(key, priority, List.of(port), new TreeMap<>());
  }

  static Entry entry(String key, long priority, long failed, long succeeded) {
    return new Entry(config(key, priority, "192.0.2." + (priority % 200 + 1)), failed, succeeded, "");
  }

  static List<String> keys(List<Entry> list) {
    return list.stream().map(e -> e.config().key() + "@" + e.config().timePriorityMs()).toList();
  }

  @Test
  void aControllerOrManualConfigGoesFirstWhateverItsTimestamp() {
    List<Entry> list = new ArrayList<>(List.of(entry("override", 5000, 0, 0), entry("lastresort", 0, 0, 0)));
    assertThat(PortConfigList.insertionIndex(list, config("zedagent", 10, "192.0.2.9"))).isZero();
    assertThat(PortConfigList.insertionIndex(list, config("manual", 10, "192.0.2.9"))).isZero();
  }

  @Test
  void otherConfigsGoByTimePriorityAndTheLastResortLast() {
    List<Entry> list = new ArrayList<>(List.of(entry("zedagent", 3000, 0, 0), entry("manual", 2000, 0, 0),
        entry("lastresort", 0, 0, 0)));
    assertThat(PortConfigList.insertionIndex(list, config("override", 2500, "192.0.2.9"))).isEqualTo(1);
    assertThat(PortConfigList.insertionIndex(list, config("override", 4000, "192.0.2.9"))).isZero();
    assertThat(PortConfigList.insertionIndex(list, config("override", 1000, "192.0.2.9")))
        .as("older than the others: just before the last resort").isEqualTo(2);
    assertThat(PortConfigList.insertionIndex(list, config("lastresort", 0, "192.0.2.9"))).isEqualTo(3);
  }

  @Test
  void compressionKeepsTheFirstTheCurrentTheNewestWorkingAndEachSourcesNewest() {
    // A new controller config that works, the older one that worked, an older one that never did,
    // the override file, the last resort.
    List<Entry> list = List.of(
        entry("zedagent", 400, 0, 90),
        entry("zedagent", 300, 10, 50),
        entry("zedagent", 200, 60, 0),
        entry("override", 100, 0, 0),
        entry("lastresort", 0, 0, 0));
    assertThat(PortConfigList.keepAfterSuccess(list, 0)).containsExactly(0, 3, 4);
  }

  @Test
  void compressionKeepsTheNewestWorkingWhileAWorseConfigIsInUse() {
    List<Entry> list = List.of(
        entry("zedagent", 400, 90, 0), // new, failed
        entry("zedagent", 300, 10, 50), // worked before: the fallback
        entry("zedagent", 200, 5, 40), // worked, but an older one
        entry("lastresort", 0, 0, 95)); // in use
    assertThat(PortConfigList.keepAfterSuccess(list, 3)).containsExactly(0, 1, 3);
  }

  @Test
  void aManualConfigIsDroppedOnceAConfigBeforeItWorks() {
    List<Entry> outranked = List.of(entry("zedagent", 400, 0, 90), entry("manual", 300, 0, 50));
    assertThat(PortConfigList.keepAfterSuccess(outranked, 0)).containsExactly(0);
    List<Entry> stillNeeded = List.of(entry("zedagent", 400, 90, 0), entry("manual", 300, 0, 95));
    assertThat(PortConfigList.keepAfterSuccess(stillNeeded, 1)).containsExactly(0, 1);
  }

  @Test
  void fallbackNeverSearchesPastAManualConfig() {
    assertThat(PortConfigList.searchLimit(List.of(entry("zedagent", 4, 0, 0), entry("manual", 3, 0, 0),
        entry("lastresort", 0, 0, 0)))).isEqualTo(1);
    assertThat(PortConfigList.searchLimit(List.of(entry("zedagent", 4, 0, 0), entry("lastresort", 0, 0, 0)))).isEqualTo(1);
  }
}
