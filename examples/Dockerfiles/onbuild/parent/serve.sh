#!/bin/sh
# Lists what the site publishes; `serve-site httpd` serves it with busybox httpd on :8080.
case "${1:-}" in
  httpd) exec httpd -f -p 8080 -h /srv/site ;;
  --help) echo "usage: serve-site [httpd]"; exit 0 ;;
esac
echo "site ${SITE_NAME:-unnamed}: $(wc -l < /srv/manifest) files"
cat /srv/manifest
