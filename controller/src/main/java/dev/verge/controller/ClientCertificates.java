package dev.verge.controller;

import dev.verge.proto.Certificates;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;

/**
 * Device identity from mutual TLS. The TLS layer accepts any client certificate (devices present
 * self-signed ones); {@link #INTERCEPTOR} puts the certificate's fingerprint in the call's
 * {@link Context} under {@link #FINGERPRINT}, and the services decide what it may do (onboarding
 * pins it to a device).
 */
public final class ClientCertificates {
  /** Lower-case hex sha256 of the client certificate's DER; absent without a client certificate. */
  public static final Context.Key<String> FINGERPRINT = Context.key("verge-client-cert-fingerprint");

  public static final ServerInterceptor INTERCEPTOR = new ServerInterceptor() {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      String fingerprint = null;
      if (session != null) {
        try {
          Certificate[] chain = session.getPeerCertificates();
          if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
            fingerprint = Certificates.fingerprint(leaf);
          }
        } catch (SSLPeerUnverifiedException e) {
          fingerprint = null;
        }
      }
      return Contexts.interceptCall(Context.current().withValue(FINGERPRINT, fingerprint), call, headers, next);
    }
  };

  /**
   * Trusts any client certificate chain in the handshake: who the device is gets decided by the
   * pinned fingerprint, not by a CA (devices are born with self-signed certificates, as in EVE);
   * on the remote admin listener, by {@link Controller#operatorAccess()}.
   */
  public static final X509TrustManager ACCEPT_ANY_CLIENT = new X509TrustManager() {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
      if (chain == null || chain.length == 0) {
        throw new java.security.cert.CertificateException("a client certificate is required");
      }
      chain[0].checkValidity();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("this trust manager only checks clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  };

  private ClientCertificates() {}
}
