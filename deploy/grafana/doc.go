// Package grafana holds crunch's Grafana dashboard, crunch-dashboard.json,
// for the Prometheus metrics of the API and the workers (import it in
// Grafana: Dashboards → New → Import, then pick the Prometheus data source).
//
// It has no Go code. Its test keeps the dashboard honest: every metric
// that a panel's PromQL queries must exist in a real /metrics scrape of a
// running api process and a running worker process, after a job ran and a
// killed worker's task was handed back (so that the labelled series
// exist). A renamed metric fails the test instead of leaving an empty
// panel.
package grafana
