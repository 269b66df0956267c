export function Tokens() {
  return <section><h1>Tokens</h1></section>;
}
