package dev.verge.zedagent;

import com.google.protobuf.ByteString;
import dev.verge.proto.Certificates;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.util.List;

/** A controller CA and a config signer it issued, made up for tests. */
record TestPki(Certificates.Identity ca, Certificates.Identity signer) {

  static TestPki create(String name) {
    Certificates.Identity ca = Certificates.selfSigned(name + " CA", true, Duration.ofDays(1));
    return new TestPki(ca, Certificates.issue(ca, name + " signing", List.of(), Duration.ofDays(1)));
  }

  SignedConfig sign(DeviceConfig config, String deviceUuid, long version) throws Exception {
    byte[] payload = config.toByteArray();
    return SignedConfig.newBuilder()
        .setPayload(ByteString.copyFrom(payload))
        .setContentHash(ConfigDigest.sha256Hex(payload))
        .setSignature(ByteString.copyFrom(signature(payload, signer.keys().getPrivate())))
        .setSignerCertHash(signer.fingerprint())
        .setVersion(version)
        .setDeviceUuid(deviceUuid)
        .build();
  }

  Path writeCaPem(Path dir) throws Exception {
    Path file = dir.resolve("controller-ca.pem");
    Files.writeString(file, Certificates.toPem(ca.certificate()));
    return file;
  }

  static byte[] signature(byte[] payload, PrivateKey key) throws Exception {
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(payload);
    return signer.sign();
  }
}
