package city.bench;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The window aggregate: count, and sum / min / max of vehicle_count and avg_speed. Stored in the
 * window store as 56 fixed bytes (one long and six doubles, big-endian), the compact form of the
 * original design's "count,sum" string.
 */
public final class TrafficWindow {
  long count;
  double vehicleSum;
  double vehicleMin = Double.POSITIVE_INFINITY;
  double vehicleMax = Double.NEGATIVE_INFINITY;
  double speedSum;
  double speedMin = Double.POSITIVE_INFINITY;
  double speedMax = Double.NEGATIVE_INFINITY;

  private static final int BYTES = 8 * 7;

  TrafficWindow add(TrafficReading reading) {
    count++;
    vehicleSum += reading.vehicleCount();
    vehicleMin = Math.min(vehicleMin, reading.vehicleCount());
    vehicleMax = Math.max(vehicleMax, reading.vehicleCount());
    speedSum += reading.avgSpeed();
    speedMin = Math.min(speedMin, reading.avgSpeed());
    speedMax = Math.max(speedMax, reading.avgSpeed());
    return this;
  }

  /** The output value; the same JSON shape bench/peers/ours-windowed-aggregation.ts writes. */
  String toJson(String sensorId, long windowStart, long windowEnd) {
    StringBuilder out = new StringBuilder(256);
    out.append("{\"sensor_id\":\"").append(sensorId)
        .append("\",\"window_start\":").append(windowStart)
        .append(",\"window_end\":").append(windowEnd)
        .append(",\"count\":").append(count)
        .append(",\"vehicle_count\":{\"sum\":").append(vehicleSum)
        .append(",\"min\":").append(vehicleMin)
        .append(",\"max\":").append(vehicleMax)
        .append(",\"avg\":").append(vehicleSum / count)
        .append("},\"avg_speed\":{\"sum\":").append(speedSum)
        .append(",\"min\":").append(speedMin)
        .append(",\"max\":").append(speedMax)
        .append(",\"avg\":").append(speedSum / count)
        .append("}}");
    return out.toString();
  }

  static Serde<TrafficWindow> serde() {
    Serializer<TrafficWindow> serializer = (topic, w) -> {
      if (w == null) return null;
      return ByteBuffer.allocate(BYTES).putLong(w.count)
          .putDouble(w.vehicleSum).putDouble(w.vehicleMin).putDouble(w.vehicleMax)
          .putDouble(w.speedSum).putDouble(w.speedMin).putDouble(w.speedMax).array();
    };
    Deserializer<TrafficWindow> deserializer = (topic, bytes) -> {
      if (bytes == null) return null;
      ByteBuffer in = ByteBuffer.wrap(bytes);
      TrafficWindow w = new TrafficWindow();
      w.count = in.getLong();
      w.vehicleSum = in.getDouble();
      w.vehicleMin = in.getDouble();
      w.vehicleMax = in.getDouble();
      w.speedSum = in.getDouble();
      w.speedMin = in.getDouble();
      w.speedMax = in.getDouble();
      return w;
    };
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
