package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.sim.SimKernel;
import dev.verge.hostos.sim.SimOperation;
import org.junit.jupiter.api.Test;

/** Adopting a bridge an earlier run left, while the rest of the node changes the kernel too. */
class BridgeConfiguratorTest {
  static final Items.Bridge BN1 = new Items.Bridge("bn1", 1500, MacAddress.of("02:16:3e:00:00:01"));

  final SimKernel kernel = new SimKernel();
  final BridgeConfigurator bridges = new BridgeConfigurator(kernel);

  private void leftover() {
    kernel.createLink("bn1", new LinkSpec.Bridge(false));
    kernel.addAddress("bn1", IpPrefix.parse("10.1.0.1/24"));
    kernel.createLink("nbu1x1", new LinkSpec.Tap());
    kernel.setMaster("nbu1x1", "bn1");
  }

  @Test
  void aPortThatAnotherAgentDeletesDuringTheAdoptionCountsAsDetached() {
    leftover();
    // the calls that change a link: bn1 down, then the port's detach, which finds it gone
    kernel.faults().failNth(SimOperation.CHANGE_LINK, 2, Errno.ENODEV);

    assertThat(bridges.adoptLeftover(null, BN1)).isTrue();

    assertThat(kernel.link("bn1").orElseThrow().up()).isTrue();
    assertThat(kernel.addresses("bn1")).isEmpty();
  }

  @Test
  void anAddressRemovedMeanwhileIsNoFailureButAnyOtherRefusalIs() {
    leftover();
    kernel.faults().failNth(SimOperation.DELETE_ADDRESS, 1, Errno.EADDRNOTAVAIL);
    assertThat(bridges.adoptLeftover(null, BN1)).isTrue();

    // (the injected fault changed nothing: the address is still there for the next try)
    kernel.faults().failNth(SimOperation.DELETE_ADDRESS, 1, Errno.EPERM);
    assertThatThrownBy(() -> bridges.adoptLeftover(null, BN1)).isInstanceOf(HostException.class)
        .hasMessageContaining("EPERM");
  }

  @Test
  void aLinkOfAnotherKindUnderTheNameIsNotAdopted() {
    kernel.createLink("bn1", new LinkSpec.Tap());
    assertThat(bridges.adoptLeftover(null, BN1)).isFalse();
  }
}
