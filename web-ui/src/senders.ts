// The settings each sender is offered, with the key filled in: paste-ready, and
// each keeps the sender's severity. No imports: tests/e2e feeds the Alertmanager
// ones, as returned here, to a real Alertmanager (services/alert-ingestion/tests/e2e/test_snippets.py).

/** Alertmanager's PagerDuty sender sends "error" unless told otherwise, which
 * would page a critical alert as high: the alert's own `severity` label goes out,
 * mapped onto the four PagerDuty levels (an unknown or mixed one stays "error"). */
const PAGERDUTY_SEVERITY =
  '{{ if eq .CommonLabels.severity "critical" "page" }}critical' +
  '{{ else if eq .CommonLabels.severity "warning" }}warning' +
  '{{ else if eq .CommonLabels.severity "info" }}info' +
  "{{ else }}error{{ end }}";

/** Settings for each sender, with the key filled in. */
export function senderSettings(key: string, origin: string, name: string) {
  const receiver = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "incident-platform";
  return {
    alertmanagerPagerduty: [
      "route:",
      `  receiver: ${receiver}  # or route to it from your own tree`,
      "receivers:",
      `  - name: ${receiver}`,
      "    pagerduty_configs:",
      `      - routing_key: ${key}`,
      `        url: ${origin}/v2/enqueue`,
      `        severity: '${PAGERDUTY_SEVERITY}'`,
    ].join("\n"),
    alertmanagerWebhook: [
      "route:",
      `  receiver: ${receiver}-webhook  # or route to it from your own tree`,
      "receivers:",
      `  - name: ${receiver}-webhook`,
      "    webhook_configs:",
      `      - url: ${origin}/api/v1/webhooks/alertmanager`,
      "        http_config:",
      "          authorization:",
      `            credentials: ${key}`,
    ].join("\n"),
    grafanaUrl: `${origin}/api/v1/webhooks/grafana`,
    grafanaHeader: `Authorization: Bearer ${key}`,
    // Grafana's webhook carries each alert's labels: a `severity` label is the alert's severity.
    grafanaSeverity: "Label each alert rule severity=critical, high, warning or info (none: high)",
    pagerduty: [
      `curl -X POST ${origin}/v2/enqueue \\`,
      "  -H 'Content-Type: application/json' \\",
      `  -d '{"routing_key": "${key}", "event_action": "trigger",`,
      `       "payload": {"summary": "Test alert", "source": "my-host", "severity": "critical"}}'`,
    ].join("\n"),
    generic: [
      `curl -X POST ${origin}/api/v1/alerts \\`,
      `  -H 'Authorization: Bearer ${key}' \\`,
      "  -H 'Content-Type: application/json' \\",
      `  -d '{"severity": "critical", "message": "Test alert"}'`,
    ].join("\n"),
  };
}
