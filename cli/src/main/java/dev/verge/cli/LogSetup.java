package dev.verge.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * The CLI's logging, set up in code (found through ServiceLoader before any logback.xml is looked
 * for): one line per event on stderr (stdout carries command output), as text or, with
 * VERGE_LOG_FORMAT=json (or {@code --log-format json}), as JSON lines with the same fields for log
 * collectors; VERGE_LOG_LEVEL sets the level (INFO). A system property wins over the environment
 * variable of the same name. In code rather than XML: logback's XML configuration loads some 600
 * classes (its model framework and the JDK's XML parser), a quarter of a second of a node's start.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
  static final String FORMAT = "VERGE_LOG_FORMAT";
  static final String LEVEL = "VERGE_LOG_LEVEL";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName(setting(FORMAT, "text"));
    console.setTarget("System.err");
    console.setEncoder(encoder(context, setting(FORMAT, "text")));
    console.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(setting(LEVEL, "INFO"), Level.INFO));
    root.addAppender(console);
    // the transport libraries' INFO is noise to an operator
    context.getLogger("io.grpc").setLevel(Level.WARN);
    context.getLogger("io.netty").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
    if (format.equals("json")) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      json.start();
      return json;
    }
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} [%thread] %msg%n");
    text.start();
    return text;
  }

  private static String setting(String name, String otherwise) {
    String value = System.getProperty(name, System.getenv(name));
    return value == null || value.isBlank() ? otherwise : value.strip();
  }
}
