#!/bin/sh
# `serve`: busybox httpd on :8080 (in the foreground, so STOPSIGNAL reaches it);
# `info`: prints how it runs and exits.
case "${1:-serve}" in
  serve) exec httpd -f -v -p 8080 -h ./www ;;
  info)
    echo "user: $(id -un) ($(id -u):$(id -g))"
    echo "cwd: $(pwd)"
    echo "data: $(cat data/state), $( [ -w data ] && echo writable || echo read-only )"
    ;;
  *) echo "usage: server.sh serve|info" >&2; exit 2 ;;
esac
