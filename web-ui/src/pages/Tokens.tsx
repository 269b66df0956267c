// The signed-in user's API tokens for scripts: made here (the secret is shown
// once), listed with their last use, revoked.
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, must, oncall, type OncallTypes } from "../api/client";
import { Empty, ErrorNote, Loading, Problem } from "../components/states";
import { when } from "../format";

type Token = OncallTypes["schemas"]["TokenRead"];

export function Tokens() {
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [made, setMade] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens((await must(oncall.GET("/api/v1/auth/tokens"))).items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, []);
  useEffect(() => {
    load();
  }, [load]);

  async function create(event: Event) {
    event.preventDefault();
    setProblem(null);
    try {
      const out = await must(
        oncall.POST("/api/v1/auth/tokens", {
          body: { name: name.trim(), expires_at: expires ? new Date(expires).toISOString() : null },
        }),
      );
      setMade(out.token);
      setName("");
      setExpires("");
      await load();
    } catch (failure) {
      setProblem(failure instanceof ApiError ? failure.message : "The token was not made.");
    }
  }

  async function revoke(token: Token) {
    if (!window.confirm(`Revoke “${token.name}”? Scripts using it stop working.`)) return;
    try {
      await must(oncall.DELETE("/api/v1/auth/tokens/{token_id}", { params: { path: { token_id: token.id } } }));
    } catch (failure) {
      setProblem(failure instanceof ApiError ? failure.message : "The token was not revoked.");
    }
    await load();
  }

  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API tokens</h1>
      <p class="muted">
        For scripts: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts with your role.
      </p>
      {made && (
        <div class="notice ok" role="status">
          <p>Your new token, shown only now; copy it somewhere safe:</p>
          <pre data-testid="new-token">{made}</pre>
          <button type="button" onClick={() => navigator.clipboard?.writeText(made)}>
            Copy
          </button>
        </div>
      )}
      <form class="filters" onSubmit={create} aria-label="New token">
        <label>
          Name
          <input required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Expires (optional)
          <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Make a token
        </button>
      </form>
      <Problem text={problem} />
      {error !== null ? (
        <ErrorNote error={error} retry={load} />
      ) : tokens === null ? (
        <Loading />
      ) : tokens.length === 0 ? (
        <Empty>No tokens yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Made</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="muted">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{when(t.created_at)}</td>
                  <td>{t.expires_at ? when(t.expires_at) : "never"}</td>
                  <td>{t.last_used_at ? when(t.last_used_at) : "never"}</td>
                  <td>
                    <button type="button" class="danger" onClick={() => revoke(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
