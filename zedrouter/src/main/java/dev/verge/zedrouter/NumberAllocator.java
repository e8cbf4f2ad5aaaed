package dev.verge.zedrouter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Numbers handed out per key (bridge numbers per NI, app numbers per app, VIF numbers per NI), kept
 * in a file so that names, MACs and IPs derived from them survive a restart. Lowest free number
 * first; a released number is free again. Written whole on each change (write, fsync, rename).
 * Used on the agent's loop only.
 */
public final class NumberAllocator {
  private final Path file;
  private final String what;
  private final int min;
  private final int max;
  private final Map<String, Integer> numbers = new TreeMap<>();

  /**
   * @param what what the numbers number, for errors ("bridge numbers")
   */
  public NumberAllocator(Path file, String what, int min, int max) {
    this.file = file;
    this.what = what;
    this.min = min;
    this.max = max;
    load();
  }

  private void load() {
    if (!Files.exists(file)) {
      return;
    }
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.isBlank()) {
          continue;
        }
        int space = line.lastIndexOf(' ');
        int number = Integer.parseInt(line.substring(space + 1));
        if (space <= 0 || number < min || number > max) {
          throw new IllegalStateException("corrupt line in " + file + ": " + line);
        }
        numbers.put(line.substring(0, space), number);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + what + " from " + file, e);
    }
  }

  public Optional<Integer> get(String key) {
    return Optional.ofNullable(numbers.get(key));
  }

  /**
   * The key's number, allocating the lowest free one if it has none.
   *
   * @throws IllegalStateException when every number is taken
   */
  public int allocate(String key) {
    Integer existing = numbers.get(key);
    if (existing != null) {
      return existing;
    }
    Set<Integer> taken = new TreeSet<>(numbers.values());
    for (int n = min; n <= max; n++) {
      if (!taken.contains(n)) {
        numbers.put(key, n);
        save();
        return n;
      }
    }
    throw new IllegalStateException("all " + what + " (" + min + ".." + max + ") are taken");
  }

  /** Frees the numbers of keys that are not kept. */
  public void retainOnly(Set<String> keys) {
    if (numbers.keySet().retainAll(keys)) {
      save();
    }
  }

  public Map<String, Integer> all() {
    return Map.copyOf(numbers);
  }

  private void save() {
    StringBuilder text = new StringBuilder();
    numbers.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        channel.write(StandardCharsets.UTF_8.encode(text.toString()));
        channel.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot persist " + what + " to " + file, e);
    }
  }
}
