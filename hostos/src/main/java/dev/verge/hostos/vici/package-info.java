/**
 * strongSwan's VICI protocol: the message model ({@link dev.verge.hostos.vici.ViciMessage}), its
 * wire codec ({@link dev.verge.hostos.vici.ViciCodec}), a client over charon's Unix socket
 * ({@link dev.verge.hostos.vici.ViciClient}) and the typed views of what charon reports
 * ({@link dev.verge.hostos.vici.IkeSa}).
 */
package dev.verge.hostos.vici;
