package dev.verge.controller.internal;

import dev.verge.proto.Certificates;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the remote admin listener: a client certificate issued by this controller's CA with
 * the operator OU and the clientAuth usage. The TLS layer only proves the client holds the key of
 * the certificate it sent; the decision is taken here, so each refusal reaches the client as one
 * status line that says why (a TLS alert could only say "bad certificate").
 */
public final class OperatorAccess implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorAccess.class);
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  private final X509Certificate ca;
  private final Function<String, Optional<String>> deviceByFingerprint;

  /** @param deviceByFingerprint the onboarded device a certificate fingerprint is pinned to, if any */
  public OperatorAccess(X509Certificate ca, Function<String, Optional<String>> deviceByFingerprint) {
    this.ca = ca;
    this.deviceByFingerprint = deviceByFingerprint;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Optional<Status> refusal = refusal(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (refusal.isPresent()) {
      LOG.warn("remote admin call {} from {} refused: {}", call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), refusal.get().getDescription());
      call.close(refusal.get(), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }

  /** Why this TLS session may not administer the controller; empty when it may. */
  Optional<Status> refusal(SSLSession session) {
    X509Certificate leaf = leaf(session);
    if (leaf == null) {
      return Optional.of(Status.UNAUTHENTICATED.withDescription("no client certificate: the remote admin API needs an operator "
          + "certificate issued by this controller's CA (verge controller issue-operator-cert)"));
    }
    String subject = leaf.getSubjectX500Principal().getName();
    Optional<String> device = deviceByFingerprint.apply(Certificates.fingerprint(leaf));
    if (device.isPresent()) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("the client certificate (" + subject + ") is the identity of device "
          + device.get() + "; devices cannot use the admin API"));
    }
    if (!issuedByCa(leaf)) {
      return Optional.of(Status.UNAUTHENTICATED.withDescription("the client certificate (" + subject + ", issued by "
          + leaf.getIssuerX500Principal().getName() + ") is not issued by this controller's CA"));
    }
    try {
      leaf.checkValidity();
    } catch (GeneralSecurityException e) {
      return Optional.of(Status.UNAUTHENTICATED.withDescription("the client certificate (" + subject + ") is not valid now: "
          + e.getMessage()));
    }
    if (!isOperator(leaf)) {
      return Optional.of(Status.PERMISSION_DENIED.withDescription("the client certificate (" + subject
          + ") is not an operator certificate (OU=" + ControllerKeys.OPERATOR_UNIT + ", client authentication)"));
    }
    return Optional.empty();
  }

  private static X509Certificate leaf(SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? leaf : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private boolean issuedByCa(X509Certificate leaf) {
    if (!leaf.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      leaf.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false; // same name, other key: another CA that chose our name
    }
  }

  private static boolean isOperator(X509Certificate leaf) {
    try {
      List<String> usages = leaf.getExtendedKeyUsage();
      if (usages == null || !usages.contains(CLIENT_AUTH)) {
        return false;
      }
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("OU") && ControllerKeys.OPERATOR_UNIT.equals(rdn.getValue())) {
          return true;
        }
      }
      return false;
    } catch (CertificateParsingException | InvalidNameException e) {
      return false;
    }
  }
}
