package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.Certificates;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;
import org.junit.jupiter.api.Test;

/**
 * The devices' TLS runs on BoringSSL (netty-tcnative), as it did when gRPC bundled a shaded Netty
 * with it: a fleet reconnecting at once costs the controller its handshakes, and the JDK's TLS
 * takes several times the CPU for each.
 */
class DeviceTlsProviderTest {
  @Test
  void theDeviceServerHandshakesWithBoringSsl() throws Exception {
    assertThat(OpenSsl.isAvailable()).as("netty-tcnative loads (cause: %s)", OpenSsl.unavailabilityCause()).isTrue();
    assertThat(ControllerServer.deviceTlsProvider()).startsWith("OpenSSL (").contains("BoringSSL");

    // What gRPC makes of the device server's TlsServerCredentials (key managers): this context.
    Certificates.Identity ca = Certificates.selfSigned("ca", true, Duration.ofDays(1));
    KeyManager[] keys = Certificates.keyManagers(
        Certificates.issue(ca, "controller", java.util.List.of("localhost"), Duration.ofDays(1)), ca.certificate());
    SslContext context = GrpcSslContexts.configure(SslContextBuilder.forServer(new FixedKeyManagerFactory(keys))).build();
    try {
      assertThat(context).isInstanceOf(OpenSslContext.class);
      assertThat(context.isServer()).isTrue();
    } finally {
      ReferenceCountUtil.release(context);
    }
  }

  /** A KeyManagerFactory over key managers already made (what gRPC does with TlsServerCredentials' own). */
  private static final class FixedKeyManagerFactory extends KeyManagerFactory {
    FixedKeyManagerFactory(KeyManager[] keys) {
      super(new javax.net.ssl.KeyManagerFactorySpi() {
        @Override
        protected void engineInit(java.security.KeyStore ks, char[] password) {}

        @Override
        protected void engineInit(javax.net.ssl.ManagerFactoryParameters spec) {}

        @Override
        protected KeyManager[] engineGetKeyManagers() {
          return keys;
        }
      }, null, "fixed");
      assertThat(keys[0]).isInstanceOf(X509KeyManager.class);
    }
  }
}
