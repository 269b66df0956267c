export function Setup() {
  return <section><h1>Setup</h1></section>;
}
