#!/bin/sh
# s3rver accepts any signature made with the S3RVER/S3RVER key pair.
set -eu
exec node /opt/s3rver/node_modules/s3rver/bin/s3rver.js \
  --directory /data --address 0.0.0.0 --port 4569 \
  --configure-bucket "${S3_BUCKET:-test-bucket}"
