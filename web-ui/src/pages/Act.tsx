export function Act() {
  return <section><h1>Act</h1></section>;
}
