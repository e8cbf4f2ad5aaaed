package dev.verge.domainmgr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed disk read back with mtools and blkid-free checks: label and both files, byte for byte. */
class NoCloudSeedTest {
  @TempDir Path dir;

  @Test
  void theSeedIsAFatImageLabelledCidataWithUserAndMetaData() throws Exception {
    Path image = dir.resolve("domains/app1/seed.img");
    String userData = "#cloud-config\nruncmd:\n  - echo hello from user data\n";

    NoCloudSeed.build(image, userData, "6f0a1c2e-0000-4000-8000-000000000021", "web");

    assertThat(run("mlabel", "-s", "-i", image.toString(), "::")).contains("CIDATA");
    assertThat(run("mtype", "-i", image.toString(), "::user-data")).isEqualTo(userData);
    assertThat(run("mtype", "-i", image.toString(), "::meta-data"))
        .isEqualTo("instance-id: 6f0a1c2e-0000-4000-8000-000000000021\nlocal-hostname: web\n");
    assertThat(run("mdir", "-b", "-i", image.toString(), "::")).doesNotContain("seed"); // no staging left over
  }

  @Test
  void rebuildingReplacesTheOldUserData() throws Exception {
    Path image = dir.resolve("seed.img");
    NoCloudSeed.build(image, "first\n", "id", "h");
    NoCloudSeed.build(image, "second\n", "id", "h");

    assertThat(run("mtype", "-i", image.toString(), "::user-data")).isEqualTo("second\n");
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
