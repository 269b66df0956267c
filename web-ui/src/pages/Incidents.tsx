export function Incidents() {
  return <section><h1>Incidents</h1></section>;
}
