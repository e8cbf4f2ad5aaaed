package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.hostos.vici.Pem;
import dev.verge.hostos.vici.ViciClient;
import java.security.cert.X509Certificate;
import dev.verge.proto.config.v1.VpnSettings;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a VPN NI's tunnel settings: a peer address, a PSK or certificates, remote subnets that are prefixes and
 * overlap nothing else the device routes, and proposals made of algorithms the charon we run has
 * (its plugins: aes, sha1/sha2, hmac, gmp): an unknown name is refused here, not by IKE later.
 */
final class VpnValidator {
  static final Set<String> ENCRYPTION = Set.of("aes128", "aes192", "aes256");
  static final Set<String> INTEGRITY = Set.of("sha1", "sha256", "sha384", "sha512");
  static final Set<String> PRF = Set.of("prfsha1", "prfsha256", "prfsha384", "prfsha512");
  /** MODP groups from 2048 bits: modp1024 and below are too weak to offer. */
  static final Set<String> DH = Set.of("modp2048", "modp3072", "modp4096", "modp6144", "modp8192");
  static final Set<String> ESN = Set.of("esn", "noesn");

  private VpnValidator() {}

  static Optional<VpnPlan> check(VpnSettings vpn, Optional<IpPrefix> niSubnet, DeviceNetwork network,
      Map<String, IpPrefix> otherSubnets, List<NiError> errors) {
    int before = errors.size();
    String peer = vpn.getPeer();
    if (peer.isEmpty()) {
      errors.add(new NiError("MISSING_VPN_PEER", "vpn.peer", "a VPN network instance needs the peer gateway's address"));
    } else if (NiValidator.address(peer).isEmpty()) {
      errors.add(new NiError("BAD_VPN_PEER", "vpn.peer", "peer '" + peer + "' is not an IPv4 address"));
    }
    String psk = vpn.getPsk();
    boolean certificateAuth = !vpn.getLocalCertificate().isEmpty() || !vpn.getLocalKey().isEmpty()
        || !vpn.getCaCertificate().isEmpty();
    Optional<VpnPlan.Certificates> certificates = Optional.empty();
    if (certificateAuth) {
      if (!psk.isEmpty() || !vpn.getPskRef().isEmpty()) {
        errors.add(new NiError("AMBIGUOUS_AUTH", "vpn.psk", "give either a pre-shared key or certificates, not both"));
      }
      certificates = certificates(vpn, errors);
    } else if (psk.isEmpty()) {
      errors.add(new NiError("MISSING_PSK", "vpn.psk", "a VPN network instance needs a pre-shared key"
          + (vpn.getPskRef().isEmpty() ? "" : " (psk_ref '" + vpn.getPskRef() + "' names no config item)")));
    } else if (psk.length() < 8) {
      errors.add(new NiError("WEAK_PSK", "vpn.psk", "the pre-shared key has " + psk.length()
          + " characters; at least 8 are needed"));
    }
    List<IpPrefix> local = prefixes("vpn.local_subnets", vpn.getLocalSubnetsList(), errors);
    if (local.isEmpty() && niSubnet.isPresent()) {
      local = List.of(niSubnet.get());
    }
    List<IpPrefix> remote = prefixes("vpn.remote_subnets", vpn.getRemoteSubnetsList(), errors);
    if (vpn.getRemoteSubnetsCount() == 0) {
      errors.add(new NiError("MISSING_REMOTE_SUBNET", "vpn.remote_subnets", "a VPN network instance needs the"
          + " subnets behind its peer"));
    }
    for (int i = 0; i < remote.size(); i++) {
      IpPrefix r = remote.get(i);
      String field = "vpn.remote_subnets[" + vpn.getRemoteSubnetsList().indexOf(r.toString()) + "]";
      if (niSubnet.isPresent() && Ipv4.overlap(r, niSubnet.get())) {
        errors.add(new NiError("REMOTE_SUBNET_OVERLAP", field, "remote subnet " + r + " overlaps the network"
            + " instance's own subnet " + niSubnet.get()));
      }
      for (int j = 0; j < i; j++) {
        if (Ipv4.overlap(r, remote.get(j))) {
          errors.add(new NiError("REMOTE_SUBNET_OVERLAP", field, "remote subnet " + r + " overlaps remote subnet "
              + remote.get(j)));
        }
      }
      for (Map.Entry<String, IpPrefix> other : otherSubnets.entrySet()) {
        if (Ipv4.overlap(r, other.getValue())) {
          errors.add(new NiError("REMOTE_SUBNET_OVERLAP", field, "remote subnet " + r + " overlaps subnet "
              + other.getValue() + " of network instance " + other.getKey()));
        }
      }
      for (Port port : network.getPortsList()) {
        for (String address : port.getAddressesList()) {
          try {
            IpPrefix p = IpPrefix.parse(address);
            if (p.isIpv4() && Ipv4.overlap(r, p.network())) {
              errors.add(new NiError("REMOTE_SUBNET_OVERLAP", field, "remote subnet " + r + " overlaps "
                  + p.network() + " of port " + port.getLabel() + " (" + port.getIfName() + ")"));
            }
          } catch (IllegalArgumentException ignored) {
            // nim reports its own bad addresses
          }
        }
      }
    }
    List<String> ike = proposals("vpn.ike_proposals", vpn.getIkeProposalsList(), true, errors);
    List<String> esp = proposals("vpn.esp_proposals", vpn.getEspProposalsList(), false, errors);
    IpsecBackend backend = switch (vpn.getIpsecBackend()) {
      case "", "libipsec" -> IpsecBackend.LIBIPSEC;
      case "xfrm" -> IpsecBackend.XFRM;
      default -> {
        errors.add(new NiError("BAD_IPSEC_BACKEND", "vpn.ipsec_backend", "IPsec backend '" + vpn.getIpsecBackend()
            + "' is neither 'libipsec' nor 'xfrm'"));
        yield IpsecBackend.LIBIPSEC;
      }
    };
    if (errors.size() > before) {
      return Optional.empty();
    }
    return Optional.of(new VpnPlan(peer, local, remote, psk,
        ike.isEmpty() ? VpnPlan.DEFAULT_IKE_PROPOSALS : ike, esp.isEmpty() ? VpnPlan.DEFAULT_ESP_PROPOSALS : esp,
        vpn.getLocalId(), vpn.getRemoteId().isEmpty() ? peer : vpn.getRemoteId(),
        seconds(vpn.getDpdDelaySeconds(), VpnPlan.DEFAULT_DPD), seconds(vpn.getDpdTimeoutSeconds(), VpnPlan.DEFAULT_DPD_TIMEOUT),
        seconds(vpn.getIkeRekeySeconds(), VpnPlan.DEFAULT_IKE_REKEY),
        seconds(vpn.getChildRekeySeconds(), VpnPlan.DEFAULT_CHILD_REKEY), vpn.getNatOtherTraffic(), backend,
        certificates));
  }

  /**
   * The device's certificate, its key and the peer's CA, each parsed here so that a missing or
   * malformed one is told by field, before charon sees it; the key must be the certificate's.
   */
  private static Optional<VpnPlan.Certificates> certificates(VpnSettings vpn, List<NiError> errors) {
    int before = errors.size();
    Optional<X509Certificate> certificate = certificate("vpn.local_certificate", "the device's certificate",
        vpn.getLocalCertificate(), errors);
    Optional<Pem.PrivateKey> key = Optional.empty();
    if (vpn.getLocalKey().isEmpty()) {
      errors.add(new NiError("MISSING_KEY", "vpn.local_key", "certificate authentication needs the device's private key"
          + " (PEM)"));
    } else {
      try {
        key = Optional.of(Pem.privateKey(vpn.getLocalKey()));
      } catch (IllegalArgumentException e) {
        errors.add(new NiError("BAD_KEY", "vpn.local_key", "the device's private key: " + e.getMessage()));
      }
    }
    if (key.isPresent() && key.get().type() == ViciClient.KeyType.ECDSA) {
      errors.add(new NiError("UNSUPPORTED_KEY", "vpn.local_key", "an ECDSA key needs strongSwan's openssl plugin,"
          + " which the device's charon does not have (its public key plugin is gmp: RSA only); use an RSA key"));
    } else if (key.isPresent() && certificate.isPresent() && !Pem.matches(certificate.get(), key.get())) {
      errors.add(new NiError("KEY_MISMATCH", "vpn.local_key", "the private key does not belong to the certificate of "
          + certificate.get().getSubjectX500Principal().getName()));
    }
    Optional<X509Certificate> ca = certificate("vpn.ca_certificate", "the peer's CA certificate",
        vpn.getCaCertificate(), errors);
    if (ca.isPresent() && ca.get().getBasicConstraints() < 0) {
      errors.add(new NiError("BAD_CERTIFICATE", "vpn.ca_certificate", "the peer's CA certificate ("
          + ca.get().getSubjectX500Principal().getName() + ") is not a CA certificate (no basicConstraints CA:TRUE)"));
    }
    if (errors.size() > before) {
      return Optional.empty();
    }
    return Optional.of(new VpnPlan.Certificates(Pem.der(certificate.get()), key.get(), Pem.der(ca.get())));
  }

  private static Optional<X509Certificate> certificate(String field, String what, String pem, List<NiError> errors) {
    if (pem.isEmpty()) {
      errors.add(new NiError("MISSING_CERTIFICATE", field, "certificate authentication needs " + what + " (PEM)"));
      return Optional.empty();
    }
    try {
      return Optional.of(Pem.certificate(pem));
    } catch (IllegalArgumentException e) {
      errors.add(new NiError("BAD_CERTIFICATE", field, what + ": " + e.getMessage()));
      return Optional.empty();
    }
  }

  private static Duration seconds(int value, Duration absent) {
    return value == 0 ? absent : Duration.ofSeconds(Integer.toUnsignedLong(value));
  }

  private static List<IpPrefix> prefixes(String field, List<String> texts, List<NiError> errors) {
    List<IpPrefix> result = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      try {
        IpPrefix p = IpPrefix.parse(text);
        if (!p.isIpv4()) {
          errors.add(new NiError("BAD_SUBNET", field + "[" + i + "]", "'" + text + "' is not an IPv4 prefix"));
        } else if (!p.equals(p.network())) {
          errors.add(new NiError("BAD_SUBNET", field + "[" + i + "]", "subnet " + text + " has host bits set (the network is "
              + p.network() + ")"));
        } else {
          result.add(p);
        }
      } catch (IllegalArgumentException e) {
        errors.add(new NiError("BAD_SUBNET", field + "[" + i + "]", "'" + text + "' is not an IP prefix"));
      }
    }
    return result;
  }

  /** Proposals as strongSwan writes them: algorithms joined by '-'; IKE needs a DH group. */
  private static List<String> proposals(String field, List<String> proposals, boolean ike, List<NiError> errors) {
    for (int i = 0; i < proposals.size(); i++) {
      String proposal = proposals.get(i);
      boolean encryption = false;
      boolean dh = false;
      boolean unknown = false;
      for (String algorithm : proposal.split("-", -1)) {
        boolean known = ENCRYPTION.contains(algorithm) || INTEGRITY.contains(algorithm) || DH.contains(algorithm)
            || (ike ? PRF.contains(algorithm) : ESN.contains(algorithm));
        if (!known) {
          errors.add(new NiError("UNKNOWN_PROPOSAL", field + "[" + i + "]", "proposal '" + proposal + "': unknown or"
              + " unsupported algorithm '" + algorithm + "' (known: " + String.join(" ", sorted(ike)) + ")"));
          unknown = true;
        }
        encryption |= ENCRYPTION.contains(algorithm);
        dh |= DH.contains(algorithm);
      }
      if (unknown) {
        continue; // what is missing follows from the unknown name: one error says it
      }
      if (!encryption) {
        errors.add(new NiError("UNKNOWN_PROPOSAL", field + "[" + i + "]", "proposal '" + proposal
            + "' names no encryption algorithm"));
      }
      if (ike && !dh) {
        errors.add(new NiError("UNKNOWN_PROPOSAL", field + "[" + i + "]", "IKE proposal '" + proposal
            + "' names no Diffie-Hellman group"));
      }
    }
    return proposals;
  }

  private static List<String> sorted(boolean ike) {
    List<String> all = new ArrayList<>(ENCRYPTION);
    all.addAll(INTEGRITY);
    all.addAll(DH);
    all.addAll(ike ? PRF : ESN);
    return all.stream().sorted().toList();
  }
}
