#!/bin/sh
# Prints the configuration the image carries (ENV), and what the build recorded.
echo "banner: $APP_BANNER"
echo "log level: $LOG_LEVEL"
echo "build id: $(cat "$APP_HOME/build-id")"
echo "BUILD_ID in the environment: ${BUILD_ID:-no}"
