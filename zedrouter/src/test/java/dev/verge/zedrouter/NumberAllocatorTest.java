package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NumberAllocatorTest {
  @TempDir Path dir;

  @Test
  void numbersAreLowestFreeFirstPersistedAndFreedWhenTheirKeyGoes() {
    NumberAllocator bridges = new NumberAllocator(dir.resolve("bridges"), "bridge numbers", 1, 3);
    assertThat(bridges.allocate("b")).isEqualTo(1);
    assertThat(bridges.allocate("a")).isEqualTo(2);
    assertThat(bridges.allocate("b")).isEqualTo(1);

    NumberAllocator reloaded = new NumberAllocator(dir.resolve("bridges"), "bridge numbers", 1, 3);
    assertThat(reloaded.get("a")).contains(2);
    reloaded.retainOnly(Set.of("a"));
    assertThat(reloaded.allocate("c")).isEqualTo(1);
    assertThat(reloaded.allocate("d")).isEqualTo(3);
    assertThatThrownBy(() -> reloaded.allocate("e")).isInstanceOf(IllegalStateException.class)
        .hasMessage("all bridge numbers (1..3) are taken");
    assertThat(new NumberAllocator(dir.resolve("bridges"), "bridge numbers", 1, 3).all())
        .containsOnlyKeys("a", "c", "d");
  }
}
