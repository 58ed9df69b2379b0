// Package deploy holds no Go code of consequence: the Dockerfile, the
// docker-compose file (3 servers, 2 workers), systemd units and example configs.
package deploy
