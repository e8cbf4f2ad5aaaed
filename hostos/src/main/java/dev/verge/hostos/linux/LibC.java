package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.Buffer;

/** The few C library calls the Linux backend needs, through JNA. */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int AF_INET = 2;
  int AF_NETLINK = 16;
  int IPPROTO_ICMP = 1;
  int SOL_RAW = 255;
  int ICMP_FILTER = 1;
  int SO_BINDTODEVICE = 25;
  int SOCK_RAW = 3;
  int SOCK_CLOEXEC = 0x80000;
  int SOL_SOCKET = 1;
  int SO_RCVBUF = 8;
  int SO_RCVTIMEO = 20;
  int SOL_NETLINK = 270;
  int NETLINK_CAP_ACK = 10;
  int NETLINK_EXT_ACK = 11;
  int O_RDONLY = 0;
  int O_RDWR = 2;
  int O_CLOEXEC = 0x80000;
  int CLONE_NEWNET = 0x40000000;
  int MSG_DONTWAIT = 0x40;
  int EINTR = 4;
  int EAGAIN = 11;
  int ENOBUFS = 105;

  int socket(int domain, int type, int protocol) throws LastErrorException;

  int bind(int fd, byte[] address, int length) throws LastErrorException;

  int connect(int fd, byte[] address, int length) throws LastErrorException;

  int setsockopt(int fd, int level, int option, byte[] value, int length)
      throws LastErrorException;

  long send(int fd, Buffer buffer, long length, int flags) throws LastErrorException;

  long recv(int fd, Buffer buffer, long length, int flags) throws LastErrorException;

  int open(String path, int flags) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  int setns(int fd, int nstype) throws LastErrorException;

  int kill(int pid, int signal) throws LastErrorException;

  int ioctl(int fd, long request, byte[] argument) throws LastErrorException;

  int ioctl(int fd, long request, long argument) throws LastErrorException;
}
