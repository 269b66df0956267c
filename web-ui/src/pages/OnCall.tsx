export function OnCall() {
  return <section><h1>OnCall</h1></section>;
}
