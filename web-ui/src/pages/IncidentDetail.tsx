export function IncidentDetail() {
  return <section><h1>IncidentDetail</h1></section>;
}
