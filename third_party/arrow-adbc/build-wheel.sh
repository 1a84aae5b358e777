#!/bin/sh
# Builds ADBC's PostgreSQL driver from the sources beside this script, compiled with optimization,
# and wraps it in the adbc-driver-postgresql wheel of the same version (PyPI's sdist takes a
# library built elsewhere: ADBC_POSTGRESQL_LIBRARY). Why: README.md.
#
#   third_party/arrow-adbc/build-wheel.sh OUT_DIR [PIP]
#
# Needs g++, cmake, ninja, pkg-config and libpq's headers (Debian: g++ cmake ninja-build
# pkg-config libpq-dev) and pip reaching the package index. Writes
# adbc_driver_postgresql-<version>-*.whl into OUT_DIR.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
pip=${2:-pip}
version=$(sed -n 's/^set(ADBC_VERSION "\(.*\)")$/\1/p' "$here/c/cmake_modules/AdbcVersion.cmake")
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

echo "[adbc-driver] compiling ADBC's PostgreSQL driver $version (Release, about a minute)"
cmake -S "$here/c" -B "$build" -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
  -DADBC_DRIVER_POSTGRESQL=ON -DADBC_BUILD_SHARED=ON -DADBC_BUILD_STATIC=OFF \
  -DADBC_WITH_VENDORED_FMT=ON -DADBC_WITH_VENDORED_NANOARROW=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" --target adbc_driver_postgresql_shared >/dev/null

echo "[adbc-driver] wrapping it in the adbc-driver-postgresql $version wheel"
mkdir -p "$out"
ADBC_POSTGRESQL_LIBRARY="$build/driver/postgresql/libadbc_driver_postgresql.so" \
  "$pip" wheel --quiet --no-cache-dir --no-deps --no-binary adbc-driver-postgresql --wheel-dir "$out" \
  "adbc-driver-postgresql==$version"
