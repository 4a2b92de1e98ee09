#!/usr/bin/env bash
# The images' HEALTHCHECK: http-probe.sh PORT PATH succeeds when GET http://127.0.0.1:PORT/PATH answers 200.
# The .NET runtime images carry neither curl nor wget, and installing one only for this would add a package to
# patch; bash's /dev/tcp is already there. HTTP/1.0, so the server closes the connection after its answer.
# Host is localhost: the web app answers it unless AllowedHosts is set without it (docker/compose.yaml keeps it).
set -u
exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3
IFS=' ' read -r -t 5 _ status _ <&3 || exit 1
[ "$status" = 200 ]
