package dev.verge.controller;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.controller.v1.ConfigAck;
import dev.verge.proto.controller.v1.ControllerMessage;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records what a device's Connect stream saw, for tests to wait on. */
final class RecordingListener implements DeviceClient.StreamListener {
  final BlockingQueue<ControllerMessage> messages = new LinkedBlockingQueue<>();
  final BlockingQueue<ConfigAck> acks = new LinkedBlockingQueue<>();
  final BlockingQueue<Throwable> closed = new LinkedBlockingQueue<>();

  @Override
  public void onMessage(ControllerMessage message) {
    messages.add(message);
  }

  @Override
  public void onAcknowledged(ConfigAck ack) {
    acks.add(ack);
  }

  @Override
  public void onClosed(Throwable error) {
    closed.add(error == null ? new IllegalStateException("completed") : error);
  }

  ControllerMessage nextMessage() throws InterruptedException {
    ControllerMessage message = messages.poll(10, TimeUnit.SECONDS);
    if (message == null) {
      throw new AssertionError("no message from the controller within 10 s");
    }
    return message;
  }

  ConfigAck nextAck() throws InterruptedException {
    ConfigAck ack = acks.poll(10, TimeUnit.SECONDS);
    if (ack == null) {
      throw new AssertionError("no acknowledgement within 10 s");
    }
    return ack;
  }

  Throwable nextClose() throws InterruptedException {
    Throwable error = closed.poll(10, TimeUnit.SECONDS);
    if (error == null) {
      throw new AssertionError("stream not closed within 10 s");
    }
    return error;
  }
}
