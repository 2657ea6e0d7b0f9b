/** A valid traffic reading as a sensor publishes it (messages/sensor-reading.ts), for tests and benchmarks. */
export function trafficReading(sensor: string, at: number, count = 30, speed = 50) {
  return {
    type: "traffic",
    sensor_id: sensor,
    timestamp: new Date(at).toISOString(),
    vehicle_count: count,
    avg_speed: speed,
    location: { lat: 52.52, lon: 13.4 },
  };
}
