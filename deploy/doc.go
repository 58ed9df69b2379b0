// Package deploy holds no Go code of consequence: the Dockerfile, the
// docker-compose file (3 servers, 2 workers), systemd units, example configs,
// and prometheus/alerts.yml (alerting rules, checked by cluster/alerts_test.go).
package deploy
