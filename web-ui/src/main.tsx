import { render } from "preact";
import { useEffect } from "preact/hooks";
import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { Layout } from "./components/Layout";
import { Loading } from "./components/states";
import { Act } from "./pages/Act";
import { IncidentDetail } from "./pages/IncidentDetail";
import { Incidents } from "./pages/Incidents";
import { Login } from "./pages/Login";
import { Maintenance } from "./pages/Maintenance";
import { Metrics } from "./pages/Metrics";
import { NotFound } from "./pages/NotFound";
import { OnCall } from "./pages/OnCall";
import { Profile } from "./pages/Profile";
import { Setup } from "./pages/setup/Setup";
import { Tokens } from "./pages/Tokens";
import { SessionProvider, useSession } from "./session";
import "./styles.css";

/** Pages for signed-in users: without a session, to the login and back. */
function SignedIn() {
  const { me, loading } = useSession();
  const { path, url, route } = useLocation();
  useEffect(() => {
    if (!loading && me === null) route(`/login?next=${encodeURIComponent(url)}`, true);
  }, [loading, me, url]);
  if (loading || me === null) return <Loading />;
  if (path === "/") {
    route("/incidents", true);
    return <Loading />;
  }
  return (
    <Layout>
      <Router>
        <Route path="/incidents" component={Incidents} />
        <Route path="/incidents/:id" component={IncidentDetail} />
        <Route path="/maintenance" component={Maintenance} />
        <Route path="/oncall" component={OnCall} />
        <Route path="/metrics" component={Metrics} />
        <Route path="/profile" component={Profile} />
        <Route path="/tokens" component={Tokens} />
        <Route path="/setup/:section" component={Setup} />
        <Route default component={NotFound} />
      </Router>
    </Layout>
  );
}

function App() {
  return (
    <LocationProvider>
      <SessionProvider>
        <Router>
          <Route path="/login" component={Login} />
          {/* A page's one-click link: the token is the credential, no login needed. */}
          <Route path="/act/:token" component={Act} />
          {/* "/*", not only default: a default route hands its nested Router an empty
              path (preact-iso), so every signed-in page would be "Not found". */}
          <Route path="/*" component={SignedIn} />
          <Route default component={SignedIn} />
        </Router>
      </SessionProvider>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
