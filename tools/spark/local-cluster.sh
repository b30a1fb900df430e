#!/usr/bin/env bash
# A Spark 4.0.1 standalone cluster on this machine (a master and N workers, 1 core each), one of the jobs (SparkApp:
# predict by default) submitted to it, its summary printed, the cluster stopped. Spark's jars are the ones Maven resolved
# (tools/spark/spark-dist.pom.xml, offline), laid out as a distribution's jars/ folder in a temporary SPARK_HOME.
#
#   mvn -B -ntp -o -Pspark-jar -pl spark -am -DskipTests package        # builds spark/target/prompt-recovery-spark.jar
#   tools/spark/local-cluster.sh [--workers N] [--executor-memory 2g] [--overhead 2g] [--archives FILE#NAME] \
#       --input ROWS.csv --config recovery.json|tiny|tiny-archive [--partitions P] [--format csv|parquet] [--submission FILE.csv]
#   tools/spark/local-cluster.sh [...] --job embed|features|rewrite --input ROWS.csv --model DIR|sparkfiles:NAME/DIR [...]
#
# --config tiny: a fast config of the repository's tiny random-weight fixtures (tools/spark/TinyConfig.java);
# tiny-archive: the same, its model folders copied beside it, packed as models.tar.gz, shipped with --archives
# models.tar.gz#models and read as sparkfiles:models/recovery.json (Spark's file distribution, not a shared path).
# --archives is spark-submit's; job options (--model, --batch-size, --max-length, --max-new-tokens, --compute,
# --column) go to the application.
# --output defaults to a folder in the run's temporary directory. Logs (master, workers, executors, driver) stay under
# that directory (printed); the copies of the application jar are removed at exit. Every process started here is
# stopped at exit (trap), by its id.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAR="$ROOT/spark/target/prompt-recovery-spark.jar"
WORKERS=2
EXEC_MEM=2g        # executor heap (and the worker's memory to give)
OVERHEAD=2g        # ND4J's native memory; standalone does not enforce it, YARN/Kubernetes do
MAXPHYS=4g         # JavaCPP's cap on heap + native per executor: EXEC_MEM + OVERHEAD
CONFIG=""
OUTPUT=""
JOB=predict
ARCHIVES=""
APP_ARGS=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) WORKERS="$2"; shift 2 ;;
    --executor-memory) EXEC_MEM="$2"; shift 2 ;;
    --overhead) OVERHEAD="$2"; shift 2 ;;
    --maxphysicalbytes) MAXPHYS="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    --output) OUTPUT="$2"; shift 2 ;;
    --job) JOB="$2"; shift 2 ;;
    --archives) ARCHIVES="$2"; shift 2 ;;
    --input|--partitions|--format|--submission|--model|--batch-size|--max-length|--max-new-tokens|--compute|--column)
      APP_ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "local-cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$JOB" != predict || -n "$CONFIG" ]] || { echo "local-cluster.sh: --config is required (a recovery.json, tiny or tiny-archive)" >&2; exit 2; }
[[ -f "$JAR" ]] || { echo "local-cluster.sh: $JAR is missing; build it: mvn -B -ntp -o -Pspark-jar -pl spark -am -DskipTests package" >&2; exit 2; }

RUN="$(mktemp -d /tmp/pr4j-spark-cluster-XXXXXX)"
LOGS="$RUN/logs"
mkdir -p "$LOGS" "$RUN/spark-home/jars" "$RUN/local"
PIDS=()

cleanup() {
  local rc=$?
  # executors first (children of the workers), then workers, then the master: only processes started here
  local p
  for p in "${PIDS[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  find "$RUN" -type f -name '*.jar' -delete 2>/dev/null || true
  echo "local-cluster.sh: cluster stopped; logs in $LOGS" >&2
  exit $rc
}
trap cleanup EXIT INT TERM

# Spark as a distribution: SPARK_HOME/jars (the Worker builds each executor's classpath from it)
mvn -B -ntp -o -q -f "$ROOT/tools/spark/spark-dist.pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$RUN/spark-classpath.txt" >"$LOGS/mvn.log" 2>&1 \
  || { echo "local-cluster.sh: resolving Spark's jars failed (see $LOGS/mvn.log)" >&2; exit 1; }
tr ":" "\n" <"$RUN/spark-classpath.txt" | while read -r j || [[ -n "$j" ]]; do ln -s "$j" "$RUN/spark-home/jars/"; done
export SPARK_HOME="$RUN/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_DIRS="$RUN/local" SPARK_LOCAL_IP=127.0.0.1
CP="$SPARK_HOME/jars/*"
# the --add-opens flags Spark needs on Java 17: one list, spark/pom.xml's spark.opens
OPENS="$(sed -n 's:.*<spark.opens>\(.*\)</spark.opens>.*:\1:p' "$ROOT/spark/pom.xml")"
[[ -n "$OPENS" ]] || { echo "local-cluster.sh: no <spark.opens> in spark/pom.xml" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # file pattern count seconds what
  for _ in $(seq $(($4 * 5))); do
    [[ $(grep -c "$2" "$1" 2>/dev/null || true) -ge $3 ]] && return 0
    sleep 0.2
  done
  echo "local-cluster.sh: $5 did not start within $4 s (see $1)" >&2; exit 1
}

if [[ "$CONFIG" == tiny ]]; then
  java -cp "$JAR:$CP" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "$ROOT/tools/spark/TinyConfig.java" \
    "$ROOT/fixtures" "$RUN/tiny" >"$LOGS/tiny-config.log" 2>&1 \
    || { echo "local-cluster.sh: making the tiny config failed (see $LOGS/tiny-config.log)" >&2; exit 1; }
  CONFIG="$RUN/tiny/recovery.json"
elif [[ "$CONFIG" == tiny-archive ]]; then
  java -cp "$JAR:$CP" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "$ROOT/tools/spark/TinyConfig.java" \
    "$ROOT/fixtures" "$RUN/tiny-models" --copy >"$LOGS/tiny-config.log" 2>&1 \
    || { echo "local-cluster.sh: making the tiny config failed (see $LOGS/tiny-config.log)" >&2; exit 1; }
  tar -czf "$RUN/models.tar.gz" -C "$RUN/tiny-models" .
  ARCHIVES="$RUN/models.tar.gz#models"
  CONFIG="sparkfiles:models/recovery.json"
fi
[[ -z "$CONFIG" ]] || APP_ARGS+=(--config "$CONFIG")
SUBMIT_ARGS=()
[[ -z "$ARCHIVES" ]] || SUBMIT_ARGS+=(--archives "$ARCHIVES")
[[ -n "$OUTPUT" ]] || OUTPUT="$RUN/output"

MPORT="$(free_port)"
MASTER="spark://127.0.0.1:$MPORT"
java -cp "$CP" -Xmx512m $OPENS org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$MPORT" --webui-port "$(free_port)" >"$LOGS/master.log" 2>&1 &
PIDS+=($!)
wait_for "$LOGS/master.log" "I have been elected leader" 1 60 "the master"
for i in $(seq "$WORKERS"); do
  java -cp "$CP" -Xmx512m $OPENS org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
    --memory "$EXEC_MEM" --work-dir "$RUN/work-$i" --webui-port "$(free_port)" "$MASTER" >"$LOGS/worker-$i.log" 2>&1 &
  PIDS+=($!)
done
wait_for "$LOGS/master.log" "Registering worker" "$WORKERS" 60 "$WORKERS workers"
echo "local-cluster.sh: $MASTER with $WORKERS workers (1 core, $EXEC_MEM each); logs in $LOGS" >&2

# the driver runs here (client mode); executors: 1 core = 1 task = 1 ND4J thread, native memory capped
set +e
java -cp "$CP" -Xmx1g $OPENS org.apache.spark.deploy.SparkSubmit \
  --master "$MASTER" --deploy-mode client --class org.promptrecovery4j.spark.SparkApp "${SUBMIT_ARGS[@]}" \
  --conf spark.driver.host=127.0.0.1 --conf spark.ui.enabled=false \
  --conf spark.executor.memory="$EXEC_MEM" --conf spark.executor.memoryOverhead="$OVERHEAD" \
  --conf spark.executor.cores=1 --conf spark.task.cpus=1 --conf spark.executorEnv.OMP_NUM_THREADS=1 \
  --conf "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxphysicalbytes=$MAXPHYS -Dorg.bytedeco.javacpp.maxbytes=0 -Xss4m -Dorg.bytedeco.openblas.load=openblas" \
  "$JAR" "$JOB" --output "$OUTPUT" "${APP_ARGS[@]}" >"$LOGS/driver.log" 2>&1
RC=$?
set -e
if [[ $RC -ne 0 ]]; then
  echo "local-cluster.sh: the application failed (exit $RC); the end of $LOGS/driver.log:" >&2
  tail -n 30 "$LOGS/driver.log" >&2
  exit $RC
fi
grep "spark $JOB:" "$LOGS/driver.log" || true
echo "local-cluster.sh: output in $OUTPUT" >&2
