package city.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The original design's IoTStreamProcessor (section 3.1) made concrete, as the peer of our
 * windowed aggregation in bench/peer-windowed-aggregation.ts:
 *
 *   input (key sensor_id, value JSON reading) -> filter traffic -> parse (Jackson) -> groupByKey
 *   -> 1-minute tumbling event-time windows with grace -> aggregate count, sum/min/max of
 *   vehicle_count and avg_speed (RocksDB window store, record cache) -> toStream -> output
 *   (key "sensor_id@window_start", value JSON, the same shape our side writes).
 *
 * at_least_once, commit.interval.ms 100, 2 stream threads, a fresh application.id per run; the
 * producer's compression.type from PEER_KS_COMPRESSION (Kafka's default, none, when unset).
 * Exits once it has seen <records> input records (counted by a peek at the source) and prints
 * {"records", "seconds", "recordsPerSecond"} on stdout; "seconds" runs from the first record
 * seen to the last. A line {"event":"ready"} is printed when the instance reaches RUNNING.
 *
 * Args: brokers input-topic output-topic records [cache-bytes|-] [grace-ms] [timeout-s]
 */
public final class IoTStreamProcessor {
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: IoTStreamProcessor brokers input output records [cache-bytes|-] [grace-ms] [timeout-s]");
      System.exit(64);
    }
    String brokers = args[0];
    String input = args[1];
    String output = args[2];
    long expected = Long.parseLong(args[3]);
    String cacheBytes = args.length > 4 ? args[4] : "-";
    long graceMs = args.length > 5 ? Long.parseLong(args[5]) : 30_000;
    long timeoutMs = (args.length > 6 ? Long.parseLong(args[6]) : 240) * 1000;

    Path stateDir = Files.createTempDirectory("peer-ks-state-");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "peer-ks-" + input + "-" + System.nanoTime());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.String().getClass().getName());
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.String().getClass().getName());
    props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTimeExtractor.class.getName());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, envInt("PEER_KS_COMMIT_MS", 100));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, envInt("PEER_KS_THREADS", 2));
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // the codec of every batch its producer sends (output and changelog topics): the benchmark
    // sets the node's own (log/kafka's default), so both sides compress the same way
    String compression = System.getenv().getOrDefault("PEER_KS_COMPRESSION", "none");
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), compression);
    if (!cacheBytes.equals("-")) props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(cacheBytes));

    AtomicLong seen = new AtomicLong();
    AtomicLong firstNanos = new AtomicLong();
    AtomicLong lastNanos = new AtomicLong();

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .peek((key, value) -> {
          long now = System.nanoTime();
          firstNanos.compareAndSet(0, now);
          if (seen.incrementAndGet() == expected) lastNanos.set(now);
        })
        .filter((key, value) -> value != null && value.contains("\"traffic\""))
        .mapValues(TrafficReading::parse)
        .filter((key, reading) -> reading != null)
        .groupByKey(Grouped.with(Serdes.String(), TrafficReading.serde()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofMillis(graceMs)))
        .aggregate(
            TrafficWindow::new,
            (key, reading, window) -> window.add(reading),
            storeOf(graceMs))
        .toStream()
        .map((windowed, window) -> {
          long start = windowed.window().start();
          return KeyValue.pair(
              windowed.key() + "@" + start, window.toJson(windowed.key(), start, windowed.window().end()));
        })
        .to(output, Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    AtomicBoolean ready = new AtomicBoolean();
    AtomicBoolean failed = new AtomicBoolean();
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING && ready.compareAndSet(false, true)) {
        System.out.println("{\"event\":\"ready\"}");
        System.out.flush();
      }
      if (next == KafkaStreams.State.ERROR) failed.set(true);
    });
    streams.setUncaughtExceptionHandler(error -> {
      System.err.println("stream thread failed: " + error);
      failed.set(true);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();

    long deadline = System.currentTimeMillis() + timeoutMs;
    while (seen.get() < expected && !failed.get() && System.currentTimeMillis() < deadline) Thread.sleep(5);
    // one more commit interval so the last window updates leave the cache, then a clean close
    Thread.sleep(200);
    streams.close(Duration.ofSeconds(30));
    streams.cleanUp();
    deleteTree(stateDir);

    long records = seen.get();
    boolean complete = records >= expected && !failed.get();
    double seconds = complete ? (lastNanos.get() - firstNanos.get()) / 1e9 : Double.NaN;
    System.out.println("{\"records\":" + records + ",\"compression\":\"" + compression + "\""
        + ",\"seconds\":" + (complete ? seconds : "null")
        + ",\"recordsPerSecond\":" + (complete ? Math.round(records / seconds) : "null")
        + ",\"complete\":" + complete + "}");
    System.out.flush();
    System.exit(complete ? 0 : 2);
  }

  /**
   * The window store: RocksDB (Kafka Streams' default) unless PEER_KS_STORE=memory. A RocksDB
   * window store keeps one RocksDB instance per time segment (segment interval = max(retention / 2,
   * 60 s)) and opens and drops them as stream time moves, which dominates when a replay moves
   * event time much faster than the wall clock. PEER_KS_CHANGELOG=off drops the store's changelog
   * topic (no fault-tolerant state; the same durability as our side in this benchmark).
   */
  private static Materialized<String, TrafficWindow, WindowStore<Bytes, byte[]>> storeOf(long graceMs) {
    Materialized<String, TrafficWindow, WindowStore<Bytes, byte[]>> store =
        "memory".equals(System.getenv("PEER_KS_STORE"))
            ? Materialized.as(Stores.inMemoryWindowStore(
                "traffic-windows", Duration.ofMillis(60_000 + graceMs), Duration.ofMinutes(1), false))
            : Materialized.as("traffic-windows");
    store = store.withKeySerde(Serdes.String()).withValueSerde(TrafficWindow.serde());
    return "off".equals(System.getenv("PEER_KS_CHANGELOG")) ? store.withLoggingDisabled() : store;
  }

  /** overrides for exploring the peer's configuration; the benchmark runs the defaults */
  private static int envInt(String name, int fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(path);
    }
  }
}
