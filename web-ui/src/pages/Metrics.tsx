export function Metrics() {
  return <section><h1>Metrics</h1></section>;
}
