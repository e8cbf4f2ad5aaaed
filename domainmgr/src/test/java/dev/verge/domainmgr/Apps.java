package dev.verge.domainmgr;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BootSource;
import dev.verge.proto.config.v1.KernelBoot;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.PlannedVif;

/** App configs and VIF plans for the tests. */
final class Apps {
  static final String NI1 = "00000000-0000-4000-8000-000000000b01";
  static final String NI2 = "00000000-0000-4000-8000-000000000b02";
  static final String APP1 = "00000000-0000-4000-8000-000000000c01";
  static final String APP2 = "00000000-0000-4000-8000-000000000c02";

  private Apps() {}

  static AppInstanceConfig app(String uuid, int memoryMb, String... networks) {
    AppInstanceConfig.Builder app = AppInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName("app-" + uuid.substring(uuid.length() - 2)).setActivate(true).setMemoryMb(memoryMb).setVcpus(1)
        .setBoot(BootSource.newBuilder().setKernel(KernelBoot.newBuilder().setKernel("/img/vmlinuz")
            .setInitrd("/img/initrd.img").setCmdline("console=ttyS0")));
    for (int i = 0; i < networks.length; i++) {
      app.addInterfaces(NetworkAdapter.newBuilder().setName("eth" + i).setNetworkId(networks[i]));
    }
    return app.build();
  }

  static PlannedVif vif(String name, String ni, String mac) {
    return PlannedVif.newBuilder().setVifName(name).setNetworkInstance(ni).setKind(PlannedVif.Kind.KIND_TAP)
        .setMac(mac).setIpAddress("10.1.0.10").setBridge("bn1").setMtu(1500).build();
  }

  static AppVifPlan plan(String app, PlannedVif... vifs) {
    return AppVifPlan.newBuilder().setAppUuid(app).addAllVifs(java.util.List.of(vifs)).build();
  }
}
