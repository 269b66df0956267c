export function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <a href="/incidents">Back to the incidents</a>.
      </p>
    </section>
  );
}
