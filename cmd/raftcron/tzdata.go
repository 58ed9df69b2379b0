package main

// The time zone database is compiled in: the image is FROM scratch (no
// /usr/share/zoneinfo), and a server must parse timeZone and CRON_TZ on any host.
import _ "time/tzdata"
