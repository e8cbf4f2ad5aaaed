package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.netlab.Root;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's nim steps on real links: two uplinks, the cut, the switch, the return. */
class NimDemoStepsIT {
  @TempDir Path dir;

  @Test
  void theDemoShowsTheUplinksTheSwitchAndTheReturn() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    List<String> lines = new ArrayList<>();
    new NimDemoSteps((title, why) -> lines.add("## " + title), lines::add).run(dir);
    String text = String.join("\n", lines);
    assertThat(text).contains("## nim brings up two uplinks", "## Cut the active uplink", "## Restore it");
    assertThat(text).containsPattern("wan0 +eth0 +cost 0 +up +192\\.0\\.2\\.10/24 +<- controller traffic");
    assertThat(text).containsPattern("wan1 +eth1 +cost 10 +up +198\\.51\\.100\\.(5\\d|60)/24"); // the lease range is .50-.60
    assertThat(text).containsPattern("controller traffic on wan1 \\(eth1\\) \\d+ ms after the cut");
    assertThat(text).containsPattern("route to the controller: 203\\.0\\.113\\.10 via 198\\.51\\.100\\.1 dev eth1");
    assertThat(text).containsPattern("back on wan0 \\(eth0\\) \\d+ ms after the link came back");
    System.out.println(text);
  }
}
