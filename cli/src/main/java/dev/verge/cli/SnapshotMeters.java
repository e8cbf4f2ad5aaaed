package dev.verge.cli;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Meters whose values arrive as snapshots (an agent publishes its cumulative counters, a status
 * its current state) rather than as increments. Each round sets the values seen now; a meter not
 * seen in a round (a deleted NI, an ACE gone) is removed, so the exposition never reports the
 * dead. Not thread-safe: one round at a time.
 */
final class SnapshotMeters {
  private final MeterRegistry registry;
  private final Map<Meter.Id, Holder> meters = new HashMap<>();

  SnapshotMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  Round round() {
    return new Round();
  }

  /** A registered meter and the cell it reads (the registry holds the cell only weakly: this keeps it). */
  private record Holder(Meter meter, AtomicReference<Double> cell) {}

  final class Round {
    private final Set<Meter.Id> seen = new HashSet<>();

    /** A cumulative count (exposed as {@code <name>_total}); a restarted agent's reset shows as a counter reset. */
    void counter(String name, String description, double value, String... tags) {
      sample(name, description, value, Meter.Type.COUNTER, tags);
    }

    void gauge(String name, String description, double value, String... tags) {
      sample(name, description, value, Meter.Type.GAUGE, tags);
    }

    private void sample(String name, String description, double value, Meter.Type type, String... tags) {
      Meter.Id id = new Meter.Id(name, Tags.of(tags), null, description, type);
      seen.add(id);
      Holder holder = meters.get(id);
      if (holder != null) {
        holder.cell().set(value);
        return;
      }
      AtomicReference<Double> cell = new AtomicReference<>(value);
      Meter meter = type == Meter.Type.COUNTER
          ? FunctionCounter.builder(name, cell, AtomicReference::get).description(description).tags(tags).register(registry)
          : Gauge.builder(name, cell, AtomicReference::get).description(description).tags(tags).register(registry);
      meters.put(id, new Holder(meter, cell));
    }

    /** Removes the meters no snapshot mentioned in this round. */
    void end() {
      meters.entrySet().removeIf(entry -> {
        if (seen.contains(entry.getKey())) {
          return false;
        }
        registry.remove(entry.getValue().meter());
        return true;
      });
    }
  }
}
