package city.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** The two measurements of a traffic reading the window needs, parsed with Jackson's tree model. */
public record TrafficReading(double vehicleCount, double avgSpeed) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** null when the value is not JSON, not a traffic reading, or lacks a numeric measurement */
  static TrafficReading parse(String value) {
    try {
      JsonNode node = JSON.readTree(value);
      if (node == null || !"traffic".equals(node.path("type").asText())) return null;
      JsonNode count = node.get("vehicle_count");
      JsonNode speed = node.get("avg_speed");
      if (count == null || !count.isNumber() || speed == null || !speed.isNumber()) return null;
      return new TrafficReading(count.asDouble(), speed.asDouble());
    } catch (Exception e) {
      return null;
    }
  }

  /** only used if Kafka Streams ever repartitions (groupByKey on an unchanged key does not) */
  static Serde<TrafficReading> serde() {
    Serializer<TrafficReading> serializer = (topic, r) ->
        r == null ? null : ByteBuffer.allocate(16).putDouble(r.vehicleCount).putDouble(r.avgSpeed).array();
    Deserializer<TrafficReading> deserializer = (topic, bytes) -> {
      if (bytes == null) return null;
      ByteBuffer in = ByteBuffer.wrap(bytes);
      return new TrafficReading(in.getDouble(), in.getDouble());
    };
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
