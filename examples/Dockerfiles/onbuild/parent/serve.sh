#!/bin/sh
# Lists what the site publishes; `serve-site httpd` would serve it with busybox httpd.
[ "$1" = httpd ] && exec httpd -f -p 8080 -h /srv/site
echo "site ${SITE_NAME:-unnamed}: $(wc -l < /srv/manifest) files"
cat /srv/manifest
