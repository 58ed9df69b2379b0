// Package deploy holds no Go code of consequence: the Dockerfile, the
// docker-compose file (3 servers, 2 draining workers, an optional "grafana"
// profile), systemd units, example configs, prometheus/alerts.yml (alerting
// rules, checked by cluster/alerts_test.go), prometheus/prometheus.yml, and
// grafana/ (a dashboard, checked by cluster/grafana_test.go, and its
// provisioning).
package deploy
