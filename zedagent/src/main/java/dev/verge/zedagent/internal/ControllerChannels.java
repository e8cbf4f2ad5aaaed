package dev.verge.zedagent.internal;

import dev.verge.proto.Certificates;
import dev.verge.zedagent.DeviceIdentity;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

/** The device's mutual-TLS channel to its controller. */
public final class ControllerChannels {
  private ControllerChannels() {}

  /**
   * A channel that presents the device certificate and trusts only the controller CA.
   *
   * @param authority the name to check the server certificate against (empty: the target's host)
   * @param proxies which proxy (if any) each dial goes through
   */
  public static ManagedChannel open(String target, String authority, X509Certificate controllerCa, DeviceIdentity device,
      io.grpc.ProxyDetector proxies) {
    var credentials =
        TlsChannelCredentials.newBuilder()
            .keyManager(Certificates.keyManagers(device.identity()))
            .trustManager(Certificates.trustManagers(controllerCa))
            .build();
    var builder = Grpc.newChannelBuilder(target, credentials).keepAliveTime(30, TimeUnit.SECONDS).proxyDetector(proxies);
    if (!authority.isEmpty()) {
      builder.overrideAuthority(authority);
    }
    return builder.build();
  }
}
